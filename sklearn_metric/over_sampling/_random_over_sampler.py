"""Random over-sampling: a bootstrap of the class's rows, optionally smoothed."""

from numbers import Real

import numpy as np
from scipy import sparse
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval

from ..utils._sampling import rows_like_input, take_rows, validate_sampler_input
from ._base import BaseOverSampler, SyntheticPairs, empty_synthetic, shared_docs

__all__ = ["RandomOverSampler"]


def smoothing_bandwidth(n_samples, n_features):
    """Bandwidth factor of the smoothed bootstrap, relative to a feature's std.

    The rule-of-thumb factor of a Gaussian kernel density estimate,
    ``(4 / ((n_features + 2) * n_samples)) ** (1 / (n_features + 4))``, with
    ``n_samples`` the number of rows of the whole ``X`` (imbalanced-learn's
    definition).

    Parameters
    ----------
    n_samples : int
        Rows of ``X``.
    n_features : int
        Features of ``X``.

    Returns
    -------
    factor : float
        The factor ``h``: a new row's feature ``j`` gets Gaussian noise of
        standard deviation ``shrinkage * h * std_j`` of its class.

    Examples
    --------
    >>> from sklearn_metric.over_sampling._random_over_sampler import (
    ...     smoothing_bandwidth,
    ... )
    >>> round(smoothing_bandwidth(100, 2), 4)
    0.5109
    """
    return (4.0 / ((n_features + 2) * n_samples)) ** (1.0 / (n_features + 4))


class RandomOverSampler(BaseOverSampler):
    """Random over-sampling: draw rows of the class again, with replacement.

    Each new row of a class is a copy of one of its rows, drawn uniformly with
    replacement (a bootstrap). With ``shrinkage``, the copy is perturbed by
    Gaussian noise instead (the smoothed bootstrap of imbalanced-learn): the
    noise of feature ``j`` has standard deviation ``shrinkage * h * std_j``,
    where ``std_j`` is the feature's standard deviation within the class
    (``ddof=0``) and ``h = (4 / ((n_features + 2) * n_samples)) ** (1 /
    (n_features + 4))`` with ``n_samples`` the rows of the whole ``X``. It is
    the baseline to compare SMOTE and its variants against.

    Without ``shrinkage`` any ``X`` is accepted (strings, dates, missing or
    infinite values), since rows are only copied; a DataFrame comes back with
    its dtypes. With ``shrinkage``, ``X`` must be numeric and finite.

    Read more in the :ref:`User Guide <random_over_sampler>`.

    Parameters
    ----------
    {sampling_strategy}
    random_state : int, RandomState instance or None, default=None
        Seeds the drawn rows and the noise.
    shrinkage : float, dict or None, default=None
        Scale of the smoothing noise: ``None`` (or 0) gives a plain bootstrap;
        a float >= 0 applies to every resampled class; a dict ``{class:
        float}`` must name every resampled class.

    Attributes
    ----------
    sampling_strategy_ : dict
        ``{class: number of new rows generated}``.
    shrinkage_ : dict or None
        ``{class: shrinkage}`` used, or ``None`` for a plain bootstrap.
    sample_indices_ : ndarray of shape (n_samples + n_new,)
        For each output row, the input row it copies (or perturbs).
    synthetic_pairs_ : dict
        ``"parents"``: int array (n_new, 2), the copied row twice (indices into
        the input ``X``); ``"steps"``: zeros. With ``shrinkage`` the new row
        is its parent plus the smoothing noise.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of the features, when ``X`` has string column names.

    See Also
    --------
    SMOTE : New rows on segments between neighbours of the class.

    Examples
    --------
    >>> from collections import Counter
    >>> from sklearn.datasets import make_classification
    >>> from sklearn_metric.over_sampling import RandomOverSampler
    >>> X, y = make_classification(n_samples=200, weights=[0.9], random_state=0)
    >>> X_res, y_res = RandomOverSampler(random_state=0).fit_resample(X, y)
    >>> Counter(y_res.tolist())
    Counter({0: 180, 1: 180})
    """

    __doc__ = shared_docs(__doc__)

    _parameter_constraints = {
        **BaseOverSampler._parameter_constraints,
        "shrinkage": [Interval(Real, 0, None, closed="left"), dict, None],
    }

    def __init__(self, *, sampling_strategy="auto", random_state=None, shrinkage=None):
        super().__init__(sampling_strategy=sampling_strategy, random_state=random_state)
        self.shrinkage = shrinkage

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        tags.input_tags.string = True
        return tags

    def _validate_X_y(self, X, y):
        if self.shrinkage is not None:
            try:
                return super()._validate_X_y(X, y)
            except ValueError as exc:
                raise ValueError(
                    "When shrinkage is not None, X needs to contain only "
                    "numerical, finite data, since the smoothed bootstrap adds "
                    f"noise to it: {exc}"
                ) from exc
        # A plain bootstrap only copies rows: keep any dtype and any value.
        return validate_sampler_input(self, X, y, numeric=False)

    def _output_rows(self, X_res, X_in):
        if self.shrinkage_ is None:
            # Copies only: a DataFrame keeps every dtype (dates, categories).
            return take_rows(X_in, X_res, self.sample_indices_)
        return rows_like_input(X_res, X_in)

    def _resolve_shrinkage(self, sampling_strategy):
        if self.shrinkage is None:
            return None
        if isinstance(self.shrinkage, dict):
            missing = set(sampling_strategy) - set(self.shrinkage)
            if missing:
                raise ValueError(
                    "`shrinkage` should contain a shrinkage factor for each class "
                    f"that will be resampled; the missing classes are "
                    f"{sorted(missing, key=str)}."
                )
            negative = {k: v for k, v in self.shrinkage.items() if not v >= 0}
            if negative:
                raise ValueError(
                    "The shrinkage factor needs to be >= 0 (and not NaN); got "
                    f"shrinkage={negative}."
                )
            return {key: float(self.shrinkage[key]) for key in sampling_strategy}
        return {key: float(self.shrinkage) for key in sampling_strategy}

    def _fit_resample(self, X, y, sampling_strategy):
        random_state = check_random_state(self.random_state)
        self.shrinkage_ = self._resolve_shrinkage(sampling_strategy)
        n_samples, n_features = X.shape
        drawn = []
        for class_label, n_new in sampling_strategy.items():
            class_rows = np.flatnonzero(y == class_label)
            drawn.append(random_state.choice(class_rows, size=n_new, replace=True))
        rows = np.concatenate(drawn) if drawn else np.empty(0, dtype=np.intp)
        self.sample_indices_ = np.concatenate([np.arange(n_samples), rows])
        if rows.size == 0:
            return empty_synthetic(X, y)
        pairs = SyntheticPairs(np.column_stack([rows, rows]), np.zeros(rows.size))
        X_new = X[rows]
        if self.shrinkage_ is not None:
            X_new = self._smooth(X, y, X_new, rows, random_state)
        return X_new, y[rows], pairs

    def _smooth(self, X, y, X_new, rows, random_state):
        """Add the smoothed bootstrap's noise to the copied rows."""
        n_samples, n_features = X.shape
        h = smoothing_bandwidth(n_samples, n_features)
        X_new = X_new.toarray() if sparse.issparse(X_new) else X_new
        start = 0
        for class_label, n_new in self.sampling_strategy_.items():
            if n_new == 0:
                continue
            X_class = X[y == class_label]
            if sparse.issparse(X_class):
                mean = np.asarray(X_class.mean(axis=0)).ravel()
                mean_sq = np.asarray(X_class.multiply(X_class).mean(axis=0)).ravel()
                scale = np.sqrt(np.maximum(mean_sq - mean**2, 0.0))
            else:
                scale = X_class.std(axis=0)
            scale = self.shrinkage_[class_label] * h * scale
            noise = random_state.standard_normal((n_new, n_features))
            X_new[start : start + n_new] += (noise * scale).astype(X.dtype)
            start += n_new
        return X_new
