"""Over-sampling: the SMOTE family of sklearn_metric against imbalanced-learn.

Each case times ``fit_resample`` of ours and of imbalanced-learn's sampler of
the same name, with the same parameters and seed, on
``make_classification(weights=[0.95], random_state=0)`` data (5% minority).
The acceptance cases are SMOTE on 200,000 x 20 and BorderlineSMOTE and ADASYN
on 100,000 x 30. Quality: whether the class counts of the two outputs are
identical (1 = identical). The notes give the largest difference between the
two resampled arrays: RandomOverSampler (with or without shrinkage), SMOTE,
borderline-1 and ADASYN draw the same rows,
neighbours and steps in the same order as imbalanced-learn on a binary
target, so it is ~0 there; the other samplers agree only in distribution.
"""

from functools import partial

import numpy as np
from sklearn.datasets import make_classification

from .._harness import Case, Quality


def _data(n_samples, n_features):
    return make_classification(
        n_samples=n_samples, n_features=n_features, weights=[0.95], random_state=0
    )


def _resample(sampler, X, y):
    return sampler.fit_resample(X, y)


def _counts_agree(anchor_result, ours_result):
    (X_anchor, y_anchor), (X_ours, y_ours) = anchor_result, ours_result
    anchor_counts = np.unique(y_anchor, return_counts=True)[1]
    ours_counts = np.unique(y_ours, return_counts=True)[1]
    identical = np.array_equal(anchor_counts, ours_counts)
    note = f"counts {ours_counts.tolist()}"
    if identical:
        note += f"; max |X_ours - X_anchor| {np.max(np.abs(X_ours - X_anchor)):.1e}"
    else:
        note += f" vs anchor {anchor_counts.tolist()}"
    return Quality("counts identical", float(identical), note=note, fmt=".0f")


def cases(quick):
    """Yield the over-sampling cases.

    Parameters
    ----------
    quick : bool
        Divide the sizes by 20.

    Yields
    ------
    Case
    """
    from imblearn import over_sampling as imb

    from sklearn_metric import over_sampling as ours

    scale = 20 if quick else 1
    plan = [
        ("RandomOverSampler", {}, 200_000, 20),
        ("RandomOverSampler", {"shrinkage": 1.0}, 200_000, 20),
        ("SMOTE", {}, 200_000, 20),
        ("BorderlineSMOTE", {"kind": "borderline-1"}, 100_000, 30),
        ("BorderlineSMOTE", {"kind": "borderline-2"}, 100_000, 30),
        ("ADASYN", {}, 100_000, 30),
        ("SVMSMOTE", {}, 10_000, 20),
        ("KMeansSMOTE", {"cluster_balance_threshold": 0.1}, 100_000, 30),
    ]
    for name, params, n_samples, n_features in plan:
        n_samples //= scale
        X, y = _data(n_samples, n_features)
        label = ", ".join(f"{key}={value!r}" for key, value in params.items())
        yield Case(
            f"{name}({label}) fit_resample {n_samples}x{n_features}",
            f"imblearn {name}",
            anchor=partial(
                _resample, getattr(imb, name)(random_state=0, **params), X, y
            ),
            ours=partial(
                _resample, getattr(ours, name)(random_state=0, **params), X, y
            ),
            quality=_counts_agree,
        )
