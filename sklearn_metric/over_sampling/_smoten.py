"""SMOTEN: SMOTE for purely categorical (nominal) data."""

from numbers import Integral

import numpy as np
from scipy import sparse
from sklearn.base import clone
from sklearn.preprocessing import OrdinalEncoder
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import HasMethods

from .._kernels._threads import parallel_section, threads_for_work
from ..utils._sampling import rows_like_input
from . import _kernels as _kc
from ._base import (
    BaseOverSampler,
    SyntheticPairs,
    check_n_neighbors,
    empty_synthetic,
    shared_docs,
)
from ._categorical import category_votes, encode_categories, validate_categorical_X_y
from ._neighbors import (
    NEIGHBORS_CONSTRAINT,
    minority_neighbors,
    resolve_neighbors,
)

__all__ = ["SMOTEN"]


def value_difference_tables(codes, y, n_levels):
    """Class-conditional frequencies of every value of every feature.

    Parameters
    ----------
    codes : ndarray of shape (n_samples, n_features), int64
        Category codes.
    y : ndarray of shape (n_samples,)
        Class labels.
    n_levels : ndarray of shape (n_features,)
        Number of codes of each feature.

    Returns
    -------
    proba : ndarray of shape (n_levels.sum(), n_classes)
        ``P(class | feature f has value v)`` in row ``offsets[f] + v``; rows of
        values that never occur are zero.
    offsets : ndarray of shape (n_features,), int64
        First row of each feature's table.
    """
    _, y_codes = np.unique(y, return_inverse=True)
    n_classes = int(y_codes.max()) + 1
    offsets = np.concatenate([[0], np.cumsum(n_levels)[:-1]]).astype(np.int64)
    proba = np.zeros((int(np.sum(n_levels)), n_classes))
    for f in range(codes.shape[1]):
        np.add.at(proba, (offsets[f] + codes[:, f], y_codes), 1.0)
    totals = proba.sum(axis=1, keepdims=True)
    np.divide(proba, totals, out=proba, where=totals > 0)
    return proba, offsets


def vdm_neighbors(codes, proba, offsets, n_neighbors, *, n_jobs=None):
    """Each row's nearest other rows under the Value Difference Metric.

    Parameters
    ----------
    codes : ndarray of shape (n_samples, n_features), int64
        Category codes.
    proba, offsets : ndarray
        The tables of :func:`value_difference_tables`.
    n_neighbors : int
        Neighbours per row, the row itself excluded.
    n_jobs : int, default=None
        Threads.

    Returns
    -------
    indices : ndarray of shape (n_samples, n_neighbors), int64
        Nearest first, ties by index.
    """
    n = codes.shape[0]
    out_d = np.empty((n, n_neighbors))
    out_i = np.empty((n, n_neighbors), dtype=np.int64)
    skip = np.arange(n, dtype=np.int64)
    work = n * n * codes.shape[1] * proba.shape[1]
    with parallel_section(threads_for_work(work, n_jobs)):
        _kc.vdm_knn(codes, codes, proba, offsets, skip, out_d, out_i)
    return out_i


def vdm_pairwise(codes, proba, offsets):
    """Value Difference Metric between every two rows, as a dense matrix.

    Parameters
    ----------
    codes : ndarray of shape (n_rows, n_features), int64
        Category codes.
    proba, offsets : ndarray
        The tables of :func:`value_difference_tables`.

    Returns
    -------
    distances : ndarray of shape (n_rows, n_rows)
        ``sum_f (sum_c |P(c | x_f) - P(c | y_f)|)^2``, the distance of
        :func:`vdm_neighbors`.
    """
    distances = np.zeros((codes.shape[0], codes.shape[0]))
    ends = np.append(offsets[1:], proba.shape[0])
    for f, (start, end) in enumerate(zip(offsets, ends)):
        table = proba[start:end]
        # Distance between every two values of the feature, then per row pair.
        value_distance = np.abs(table[:, None, :] - table[None, :, :]).sum(axis=2)
        distances += value_distance[np.ix_(codes[:, f], codes[:, f])] ** 2
    return distances


class SMOTEN(BaseOverSampler):
    """SMOTE for nominal features (SMOTEN), with the Value Difference Metric.

    Every feature is categorical. Each synthetic row picks a random row of the
    class; each of its features takes the most common value among that row
    and its ``k_neighbors`` nearest rows of the same class (ties go to the
    smallest encoded value, as imbalanced-learn's ``scipy.stats.mode``).

    Neighbours are found under the Value Difference Metric of Stanfill and
    Waltz: with ``P(c | v)`` the fraction of the rows whose feature ``f`` has
    value ``v`` that belong to class ``c`` (over all of ``X``), the distance
    between rows ``a`` and ``b`` is
    ``sum_f (sum_c |P(c | a_f) - P(c | b_f)|)^2``, as imbalanced-learn's
    ``ValueDifferenceMetric(k=1, r=2)``. A Numba kernel reads these small
    per-feature tables by code, so no pairwise distance matrix is built:
    memory is ``O(n_samples * (n_features + k_neighbors))``.

    Read more in the :ref:`User Guide <smoten>`.

    Parameters
    ----------
    categorical_encoder : estimator, default=None
        Encoder mapping each column to one column of integer codes and back,
        with ``fit_transform`` and ``inverse_transform``. ``None`` uses
        :class:`~sklearn.preprocessing.OrdinalEncoder`.
    {sampling_strategy}
    random_state : int, RandomState instance or None, default=None
        Seeds the choice of rows.
    k_neighbors : int, default=5
        Nearest neighbours of the same class that vote with the row.
    n_jobs : int, default=None
        Threads of the neighbour search and of the votes; ``None`` means all
        cores.

    Attributes
    ----------
    categorical_encoder_ : estimator
        The fitted encoder.
    sampling_strategy_ : dict
        ``{class: number of synthetic rows generated}``.
    synthetic_pairs_ : dict
        ``"parents"`` (n_new, 2): the row each synthetic row was built around,
        twice (its neighbours vote but are not interpolated towards), as
        indices into ``X``; ``"steps"``: zeros. Resampled ``sample_weight``
        thus gives a synthetic row the weight of its row.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of the features, when ``X`` has string column names.

    See Also
    --------
    SMOTENC : Over-sampling of mixed continuous and categorical data.

    References
    ----------
    .. [1] N. V. Chawla, K. W. Bowyer, L. O. Hall, W. P. Kegelmeyer, "SMOTE:
       synthetic minority over-sampling technique", Journal of Artificial
       Intelligence Research, 16, 321-357, 2002.
    .. [2] C. Stanfill, D. Waltz, "Toward memory-based reasoning",
       Communications of the ACM, 29(12), 1213-1228, 1986.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_metric.over_sampling import SMOTEN
    >>> X = np.array(["A"] * 10 + ["B"] * 20 + ["C"] * 30, dtype=object)
    >>> X = X.reshape(-1, 1)
    >>> y = np.array([0] * 20 + [1] * 40)
    >>> X_res, y_res = SMOTEN(random_state=0).fit_resample(X, y)
    >>> np.bincount(y_res)
    array([40, 40])
    >>> sorted(set(X_res[:, 0]))
    ['A', 'B', 'C']
    """

    __doc__ = shared_docs(__doc__)

    _parameter_constraints = {
        **BaseOverSampler._parameter_constraints,
        "categorical_encoder": [
            HasMethods(["fit_transform", "inverse_transform"]),
            None,
        ],
        "k_neighbors": NEIGHBORS_CONSTRAINT,
        "n_jobs": [Integral, None],
    }

    def __init__(
        self,
        categorical_encoder=None,
        *,
        sampling_strategy="auto",
        random_state=None,
        k_neighbors=5,
        n_jobs=None,
    ):
        super().__init__(sampling_strategy=sampling_strategy, random_state=random_state)
        self.categorical_encoder = categorical_encoder
        self.k_neighbors = k_neighbors
        self.n_jobs = n_jobs

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.string = True
        tags.input_tags.categorical = True
        return tags

    def _validate_X_y(self, X, y):
        return validate_categorical_X_y(self, X, y, integers_to_float=False)

    def _output_rows(self, X_res, X_in):
        # Every value is a vote among input values: every dtype holds.
        return rows_like_input(X_res, X_in, copied_columns=range(X_res.shape[1]))

    def _fit_resample(self, X, y, sampling_strategy):
        if sparse.issparse(X):
            X = X.toarray()
        encoder = (
            OrdinalEncoder(dtype=np.int32)
            if self.categorical_encoder is None
            else clone(self.categorical_encoder)
        )
        codes, n_levels = encode_categories(encoder, X)
        self.categorical_encoder_ = encoder
        if sum(sampling_strategy.values()) == 0:
            return empty_synthetic(X, y)
        proba, offsets = value_difference_tables(codes, y, n_levels)
        k, nn_k, self.nn_k_ = resolve_neighbors(self.k_neighbors, "k_neighbors")

        parts_codes, parts_y, parts_rows = [], [], []
        for class_label, n_new in sampling_strategy.items():
            if n_new == 0:
                continue
            class_rows = np.flatnonzero(y == class_label)
            check_n_neighbors(k, class_rows.size, class_label, "k_neighbors")
            codes_class = np.ascontiguousarray(codes[class_rows])
            if nn_k is None:
                neighbors = vdm_neighbors(
                    codes_class, proba, offsets, k, n_jobs=self.n_jobs
                )
            else:
                # As imbalanced-learn does, the object searches the rows of the
                # class's pairwise distance matrix, taken as features.
                distances = vdm_pairwise(codes_class, proba, offsets)
                _, neighbors = minority_neighbors(
                    distances, distances, k, exclude_self=True, estimator=nn_k
                )
            # The row votes with its neighbours.
            voters = np.column_stack([np.arange(class_rows.size), neighbors])
            rng = check_random_state(self.random_state)
            rows = rng.choice(class_rows.size, size=n_new, replace=True)
            ties_to_smallest = np.zeros((n_new, codes.shape[1]))
            parts_codes.append(
                category_votes(
                    codes_class, voters[rows], ties_to_smallest, n_jobs=self.n_jobs
                )
            )
            parts_y.append(np.full(n_new, class_label, dtype=y.dtype))
            parts_rows.append(class_rows[rows])

        X_new = np.asarray(
            encoder.inverse_transform(np.concatenate(parts_codes)), dtype=X.dtype
        )
        rows = np.concatenate(parts_rows)
        pairs = SyntheticPairs(np.column_stack([rows, rows]), np.zeros(rows.size))
        return X_new, np.concatenate(parts_y), pairs
