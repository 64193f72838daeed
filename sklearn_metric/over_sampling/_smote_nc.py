"""SMOTE-NC: SMOTE for data with both continuous and categorical features."""

from numbers import Integral

import numpy as np
from scipy import sparse
from sklearn.base import clone
from sklearn.preprocessing import OrdinalEncoder
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import HasMethods, StrOptions

from .._kernels._threads import parallel_section, threads_for_work
from ..utils._sampling import rows_like_input
from . import _kernels as _kc
from ._base import (
    BaseOverSampler,
    SyntheticPairs,
    check_n_neighbors,
    empty_synthetic,
    interpolate,
    shared_docs,
)
from ._categorical import (
    category_votes,
    encode_categories,
    is_dataframe,
    one_hot,
    validate_categorical_X_y,
)
from ._neighbors import (
    NEIGHBORS_CONSTRAINT,
    minority_neighbors,
    resolve_neighbors,
)

__all__ = ["SMOTENC"]


class SMOTENC(BaseOverSampler):
    """SMOTE for nominal and continuous features (SMOTE-NC), without one-hot.

    Each synthetic row starts from a random row of the class and one of its
    ``k_neighbors`` nearest rows of the same class: its continuous features
    are interpolated between the two as in SMOTE, and each categorical feature
    takes the most common value among the ``k_neighbors`` neighbours of the
    starting row (the row itself does not vote; ties are broken at random).

    Neighbours are found under the SMOTE-NC distance: the squared Euclidean
    distance between the continuous features plus ``median_std_[class]**2``
    for every categorical feature on which the two rows differ, where
    ``median_std_`` is the median of the standard deviations of the continuous
    features within the class. This is the distance imbalanced-learn obtains
    from a scaled one-hot encoding, computed here from integer codes in a Numba
    kernel, so memory stays ``O(n_samples * (n_features + k_neighbors))``
    whatever the number of categories.

    Read more in the :ref:`User Guide <smote_nc>`.

    Parameters
    ----------
    categorical_features : "auto" or array-like of int, bool or str
        Which features are categorical:

        - ``"auto"``: the columns of ``category`` dtype of a pandas DataFrame;
        - array of int: their indices;
        - array of bool of length ``n_features``: a mask;
        - array of str: column names of a DataFrame.

        At least one feature must be categorical and one continuous.
    categorical_encoder : estimator, default=None
        Encoder mapping each categorical column to one column of integer codes
        and back, with ``fit_transform`` and ``inverse_transform``. ``None``
        uses :class:`~sklearn.preprocessing.OrdinalEncoder`. Unlike
        imbalanced-learn, a one-hot encoder is neither needed nor accepted.
    {sampling_strategy}
    random_state : int, RandomState instance or None, default=None
        Seeds the choice of rows, neighbours, steps and category ties.
    k_neighbors : int, default=5
        Nearest neighbours of the same class used to build each synthetic row.
    n_jobs : int, default=None
        Threads of the neighbour search and of the category votes; ``None``
        means all cores.

    Attributes
    ----------
    categorical_features_ : ndarray of shape (n_categorical,)
        Indices of the categorical features.
    continuous_features_ : ndarray of shape (n_continuous,)
        Indices of the continuous features.
    categorical_encoder_ : estimator
        The fitted encoder of the categorical features.
    median_std_ : dict
        ``{class: median standard deviation of its continuous features}`` for
        every resampled class.
    sampling_strategy_ : dict
        ``{class: number of synthetic rows generated}``.
    synthetic_pairs_ : dict
        ``"parents"`` (n_new, 2): the starting row and the neighbour of each
        synthetic row, as indices into ``X``; ``"steps"`` (n_new,): the
        interpolation step of the continuous features.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of the features, when ``X`` has string column names.

    See Also
    --------
    SMOTEN : Over-sampling of purely categorical data.

    References
    ----------
    .. [1] N. V. Chawla, K. W. Bowyer, L. O. Hall, W. P. Kegelmeyer, "SMOTE:
       synthetic minority over-sampling technique", Journal of Artificial
       Intelligence Research, 16, 321-357, 2002.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_metric.over_sampling import SMOTENC
    >>> rng = np.random.RandomState(0)
    >>> X = np.column_stack([rng.normal(size=30), rng.randint(0, 3, size=30)])
    >>> y = np.array([0] * 20 + [1] * 10)
    >>> X_res, y_res = SMOTENC([1], random_state=0).fit_resample(X, y)
    >>> np.bincount(y_res)
    array([20, 20])
    >>> set(np.unique(X_res[:, 1])) <= {0.0, 1.0, 2.0}
    True
    """

    __doc__ = shared_docs(__doc__)

    _parameter_constraints = {
        **BaseOverSampler._parameter_constraints,
        "categorical_features": [StrOptions({"auto"}), "array-like"],
        "categorical_encoder": [
            HasMethods(["fit_transform", "inverse_transform"]),
            None,
        ],
        "k_neighbors": NEIGHBORS_CONSTRAINT,
        "n_jobs": [Integral, None],
    }

    def __init__(
        self,
        categorical_features,
        *,
        categorical_encoder=None,
        sampling_strategy="auto",
        random_state=None,
        k_neighbors=5,
        n_jobs=None,
    ):
        super().__init__(sampling_strategy=sampling_strategy, random_state=random_state)
        self.categorical_features = categorical_features
        self.categorical_encoder = categorical_encoder
        self.k_neighbors = k_neighbors
        self.n_jobs = n_jobs

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.string = True
        tags.input_tags.categorical = True
        return tags

    def _validate_X_y(self, X, y):
        X_in = X
        X, y = validate_categorical_X_y(self, X, y)
        n_features = X.shape[1]
        self.categorical_features_ = self._categorical_indices(X_in, n_features)
        if self.categorical_features_.size == 0:
            raise ValueError(
                "SMOTENC needs at least one categorical feature; "
                f"categorical_features selects none (n_features = {n_features}). "
                "Use SMOTE for purely continuous data."
            )
        if self.categorical_features_.size == n_features:
            raise ValueError(
                "SMOTENC needs at least one continuous feature; "
                "categorical_features selects all of them (n_features = "
                f"{n_features}). Use SMOTEN for purely categorical data."
            )
        self.continuous_features_ = np.setdiff1d(
            np.arange(n_features), self.categorical_features_
        )
        return X, y

    def _output_rows(self, X_res, X_in):
        # The categorical values are votes among input values: their dtype holds.
        return rows_like_input(X_res, X_in, copied_columns=self.categorical_features_)

    def _categorical_indices(self, X, n_features):
        selection = self.categorical_features
        if isinstance(selection, str) and selection == "auto":
            if not is_dataframe(X):
                raise ValueError(
                    "categorical_features='auto' selects the columns of category "
                    "dtype of a pandas DataFrame; X is a "
                    f"{type(X).__name__}. Pass the indices of the categorical "
                    "features instead."
                )
            import pandas as pd

            mask = np.array(
                [isinstance(dtype, pd.CategoricalDtype) for dtype in X.dtypes],
                dtype=bool,
            )
            return np.flatnonzero(mask)
        selection = np.asarray(selection)
        if selection.ndim != 1:
            raise ValueError(
                "categorical_features must be 'auto' or a 1-d array of indices, "
                f"booleans or column names; got an array of shape {selection.shape}."
            )
        if selection.size == 0:
            return np.empty(0, dtype=np.intp)
        if selection.dtype.kind == "b":
            if selection.size != n_features:
                raise ValueError(
                    f"categorical_features as a boolean mask must have one entry per "
                    f"feature ({n_features}); got {selection.size}."
                )
            return np.flatnonzero(selection)
        if selection.dtype.kind in "iu":
            indices = selection.astype(np.intp)
            if np.any(indices < -n_features) or np.any(indices >= n_features):
                raise ValueError(
                    "categorical_features has indices out of range for "
                    f"{n_features} features: {selection.tolist()}."
                )
            return np.unique(indices % n_features) if indices.size else indices
        if selection.dtype.kind in "UO" or selection.dtype.kind == "T":
            if not is_dataframe(X):
                raise ValueError(
                    "categorical_features can hold column names only when X is a "
                    f"pandas DataFrame; X is a {type(X).__name__}."
                )
            columns = list(X.columns)
            missing = [name for name in selection.tolist() if name not in columns]
            if missing:
                raise ValueError(
                    f"categorical_features names columns that X lacks: {missing}."
                )
            return np.unique([columns.index(name) for name in selection.tolist()])
        raise ValueError(
            "categorical_features must be 'auto' or an array of int, bool or str; "
            f"got an array of dtype {selection.dtype}."
        )

    def _fit_resample(self, X, y, sampling_strategy):
        if sparse.issparse(X):
            X = X.toarray()
        categorical = self.categorical_features_
        continuous = self.continuous_features_
        try:
            X_continuous = np.asarray(X[:, continuous], dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise ValueError(
                "Features that categorical_features leaves out must be numeric; "
                f"converting them failed ({exc}). Add string columns to "
                "categorical_features."
            ) from exc
        encoder = (
            OrdinalEncoder(dtype=np.int64)
            if self.categorical_encoder is None
            else clone(self.categorical_encoder)
        )
        codes, n_levels = encode_categories(encoder, X[:, categorical])
        self.categorical_encoder_ = encoder
        k, nn_k, self.nn_k_ = resolve_neighbors(self.k_neighbors, "k_neighbors")
        self.median_std_ = {}
        if sum(sampling_strategy.values()) == 0:
            return empty_synthetic(X, y)

        parts_cont, parts_codes, parts_y = [], [], []
        parts_parents, parts_steps = [], []
        for class_label, n_new in sampling_strategy.items():
            if n_new == 0:
                continue
            class_rows = np.flatnonzero(y == class_label)
            check_n_neighbors(k, class_rows.size, class_label, "k_neighbors")
            cont_class = np.ascontiguousarray(X_continuous[class_rows])
            codes_class = np.ascontiguousarray(codes[class_rows])
            median_std = float(np.median(cont_class.std(axis=0)))
            self.median_std_[class_label] = median_std
            if nn_k is None:
                neighbors = mixed_neighbors(
                    cont_class, codes_class, median_std**2, k, n_jobs=self.n_jobs
                )
            else:
                # The object searches Euclidean space, where one-hot columns
                # scaled by median_std / sqrt(2) give a mismatch the squared
                # distance median_std**2, as in our kernel.
                embedded = np.hstack(
                    [
                        cont_class,
                        one_hot(codes_class, n_levels, median_std / np.sqrt(2)),
                    ]
                )
                _, neighbors = minority_neighbors(
                    embedded, embedded, k, exclude_self=True, estimator=nn_k
                )

            # One generator per class, drawn as imbalanced-learn draws: the row
            # (flat index into the neighbour table), then the step.
            rng = check_random_state(self.random_state)
            flat = rng.randint(low=0, high=neighbors.size, size=n_new)
            steps = rng.uniform(size=n_new)
            rows = flat // k
            partners = neighbors[rows, flat % k]
            tie_draws = rng.uniform(size=(n_new, categorical.size))

            parts_cont.append(interpolate(cont_class, rows, partners, steps))
            parts_codes.append(
                category_votes(
                    codes_class, neighbors[rows], tie_draws, n_jobs=self.n_jobs
                )
            )
            parts_y.append(np.full(n_new, class_label, dtype=y.dtype))
            parts_parents.append(
                np.column_stack([class_rows[rows], class_rows[partners]])
            )
            parts_steps.append(steps)

        labels = encoder.inverse_transform(np.concatenate(parts_codes))
        X_new = np.empty((labels.shape[0], X.shape[1]), dtype=X.dtype)
        X_new[:, continuous] = np.concatenate(parts_cont)
        X_new[:, categorical] = labels
        pairs = SyntheticPairs(
            np.concatenate(parts_parents), np.concatenate(parts_steps)
        )
        return X_new, np.concatenate(parts_y), pairs


def mixed_neighbors(X_continuous, codes, penalty, n_neighbors, *, n_jobs=None):
    """Each row's nearest other rows under the SMOTE-NC distance.

    Parameters
    ----------
    X_continuous : ndarray of shape (n_samples, n_continuous), float64
        Continuous features.
    codes : ndarray of shape (n_samples, n_categorical), int64
        Category codes.
    penalty : float
        Squared distance of one categorical mismatch.
    n_neighbors : int
        Neighbours per row, the row itself excluded.
    n_jobs : int, default=None
        Threads.

    Returns
    -------
    indices : ndarray of shape (n_samples, n_neighbors), int64
        Nearest first, ties by index.
    """
    n = X_continuous.shape[0]
    out_d = np.empty((n, n_neighbors))
    out_i = np.empty((n, n_neighbors), dtype=np.int64)
    skip = np.arange(n, dtype=np.int64)
    work = n * n * (X_continuous.shape[1] + codes.shape[1])
    with parallel_section(threads_for_work(work, n_jobs)):
        _kc.mixed_knn(
            X_continuous, codes, X_continuous, codes, float(penalty), skip, out_d, out_i
        )
    return out_i
