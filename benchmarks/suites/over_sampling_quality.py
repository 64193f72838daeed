"""Over-sampling quality: ROC AUC after SMOTE, ours against imbalanced-learn.

For six imbalanced binary problems built from data bundled with scikit-learn
(no downloads; fixed seeds), each case compares two classifiers trained on
SMOTE-resampled folds: ``StandardScaler -> SMOTE(random_state=0) -> clf``,
assembled with :func:`sklearn_metric.pipeline.make_resampled_pipeline` and our
``SMOTE`` on one side and with ``imblearn.pipeline.make_pipeline`` and
imbalanced-learn's ``SMOTE`` on the other, for ``clf`` a 5-nearest-neighbour
classifier and a logistic regression. Both are scored by 5-fold stratified
cross-validation (``StratifiedKFold(5, shuffle=True, random_state=0)``), and
the times are those of the whole cross-validation. Quality: mean ROC AUC of
ours minus that of the anchor (the acceptance line asks for >= -0.01); the
notes give both AUCs and the minority share of the dataset. ``--quick`` uses
the first three datasets.
"""

from functools import partial

import numpy as np
from sklearn.base import clone
from sklearn.datasets import (
    load_breast_cancer,
    load_diabetes,
    load_digits,
    load_iris,
    load_wine,
    make_classification,
)
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import StratifiedKFold
from sklearn.neighbors import KNeighborsClassifier
from sklearn.preprocessing import StandardScaler

from .._harness import Case, Quality

_SEED = 0


def _subsample_minority(X, is_minority, n_keep):
    """Keep ``n_keep`` minority rows (chosen with a fixed seed) and every other row.

    Returns ``X`` restricted to the kept rows and the 0/1 target (1 = minority).
    """
    rng = np.random.default_rng(_SEED)
    minority = np.flatnonzero(is_minority)
    kept = np.sort(rng.choice(minority, size=n_keep, replace=False))
    rows = np.sort(np.concatenate([np.flatnonzero(~is_minority), kept]))
    return X[rows], is_minority[rows].astype(int)


def _breast_cancer():
    X, y = load_breast_cancer(return_X_y=True)
    # malignant (0) is the smaller class: keep 40 of 212 -> 40 / 397
    return _subsample_minority(X, y == 0, 40)


def _wine():
    X, y = load_wine(return_X_y=True)
    # class 0 against the rest, 13 of its 59 rows kept -> 13 / 132
    return _subsample_minority(X, y == 0, 13)


def _digits():
    X, y = load_digits(return_X_y=True)
    # digit 0 against the other nine: 178 / 1797, no subsampling
    return X, (y == 0).astype(int)


def _iris():
    X, y = load_iris(return_X_y=True)
    # virginica against the rest, 12 of its 50 rows kept -> 12 / 112
    return _subsample_minority(X, y == 2, 12)


def _diabetes():
    X, y = load_diabetes(return_X_y=True)
    # disease progression above its 90th percentile
    return X, (y > np.quantile(y, 0.9)).astype(int)


def _synthetic():
    X, y = make_classification(
        n_samples=2_000,
        n_features=20,
        n_informative=5,
        weights=[0.95],
        random_state=_SEED,
    )
    return X, y


_DATASETS = (
    ("breast_cancer malignant subsampled", _breast_cancer),
    ("wine class 0 vs rest subsampled", _wine),
    ("digits 0 vs rest", _digits),
    ("iris virginica vs rest subsampled", _iris),
    ("diabetes top decile", _diabetes),
    ("make_classification weights=[0.95]", _synthetic),
)

_CLASSIFIERS = (
    ("kNN(5)", partial(KNeighborsClassifier, 5)),
    ("LogisticRegression", partial(LogisticRegression, max_iter=1000)),
)


def _cv_auc(model, X, y):
    """Mean ROC AUC of ``model`` over the stratified 5-fold split."""
    folds = StratifiedKFold(5, shuffle=True, random_state=_SEED)
    scores = []
    for train, test in folds.split(X, y):
        fitted = clone(model).fit(X[train], y[train])
        scores.append(roc_auc_score(y[test], fitted.predict_proba(X[test])[:, 1]))
    return float(np.mean(scores))


def _auc_difference(anchor_auc, ours_auc):
    return Quality(
        "AUC ours - anchor",
        ours_auc - anchor_auc,
        note=f"AUC ours {ours_auc:.4f} / anchor {anchor_auc:.4f}",
        fmt="+.4f",
    )


def cases(quick):
    """Yield one case per dataset and classifier.

    Parameters
    ----------
    quick : bool
        Use the first three datasets only.

    Yields
    ------
    Case
    """
    from imblearn.over_sampling import SMOTE as ImblearnSMOTE
    from imblearn.pipeline import make_pipeline as imblearn_pipeline

    from sklearn_metric.over_sampling import SMOTE
    from sklearn_metric.pipeline import make_resampled_pipeline

    for name, load in _DATASETS[:3] if quick else _DATASETS:
        X, y = load()
        share = f"minority {int(y.sum())}/{y.size} = {y.mean():.1%}"
        for clf_name, make_clf in _CLASSIFIERS:
            ours = make_resampled_pipeline(
                StandardScaler(), SMOTE(random_state=_SEED), make_clf()
            )
            anchor = imblearn_pipeline(
                StandardScaler(), ImblearnSMOTE(random_state=_SEED), make_clf()
            )
            yield Case(
                f"SMOTE + {clf_name}, {name} {X.shape[0]}x{X.shape[1]}, 5-fold AUC",
                f"imblearn SMOTE + {clf_name}",
                anchor=partial(_cv_auc, anchor, X, y),
                ours=partial(_cv_auc, ours, X, y),
                quality=_auc_difference,
                notes=share,
            )
