"""The base shared by the over- and under-samplers.

:class:`BaseSampler` holds what every sampler does the same way: input
validation, the ``sample_weight`` rule, the resolution of
``sampling_strategy`` into one canonical dict, the round trip of the caller's
container, and the tags. Over-samplers add interpolation and provenance on
top of it (``over_sampling/_base.py``); under-samplers add row selection.

Output dtype rule. A sampler whose output rows are all copies of input rows
(the under-samplers, :class:`~sklearn_metric.over_sampling.RandomOverSampler`
without ``shrinkage``) returns ``X`` in its input dtype, integer included, as
imbalanced-learn does. A sampler that computes new values (interpolation,
noise) validates ``X`` as float64 (float32 stays float32), so integer or
boolean ``X`` comes back float64, and in a DataFrame integer and boolean
columns come back float64 while float and other columns keep their dtype:
casting interpolated values back to int would silently truncate them.
"""

from abc import ABCMeta, abstractmethod
from numbers import Integral, Real

import numpy as np
from scipy import sparse
from sklearn.base import BaseEstimator, OneToOneFeatureMixin, _fit_context
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.multiclass import check_classification_targets, type_of_target
from sklearn.utils.validation import (
    check_consistent_length,
    column_or_1d,
    validate_data,
)

__all__ = [
    "BaseSampler",
    "check_sample_weight",
    "class_counts",
    "resolve_sampling_strategy",
    "validate_sampler_input",
]

#: The strategy names each kind of sampler accepts (imbalanced-learn's).
STRATEGY_NAMES = {
    "over-sampling": ("minority", "not minority", "not majority", "all", "auto"),
    "under-sampling": ("majority", "not minority", "not majority", "all", "auto"),
}


def class_counts(y):
    """Samples per class, as a dict ``{label: count}`` in sorted label order.

    Parameters
    ----------
    y : ndarray of shape (n_samples,)
        Class labels.

    Returns
    -------
    counts : dict
        Number of samples of each class.
    """
    classes, counts = np.unique(y, return_counts=True)
    return dict(zip(classes.tolist(), counts.tolist()))


def validate_sampler_input(estimator, X, y, *, numeric=True):
    """Validate the rows and labels given to a sampler's ``fit`` or ``fit_resample``.

    Parameters
    ----------
    estimator : estimator
        The sampler; ``n_features_in_`` and ``feature_names_in_`` are set on it.
    X : {array-like, sparse matrix} of shape (n_samples, n_features)
        Rows; CSC input is turned into CSR.
    y : array-like of shape (n_samples,)
        Classification targets.
    numeric : bool, default=True
        Whether ``X`` must be finite numbers, returned as float64 (float32
        stays float32). When False, any dtype and value passes unchanged
        (samplers that only copy rows, or that encode categories).

    Returns
    -------
    X : {ndarray, csr_matrix} of shape (n_samples, n_features)
        The rows.
    y : ndarray of shape (n_samples,)
        The labels. A DataFrame with a column that is not of a NumPy numeric
        dtype (pandas Categorical, bool next to strings, dates) becomes an
        object array when ``numeric`` is False.
    """
    if not numeric and _is_dataframe(X) and not _numeric_frame(X):
        # scikit-learn's check_array would look for one common dtype of the
        # columns (and fails on a Categorical next to a bool); only the
        # feature names and the lengths are checked, the values pass as objects.
        validate_data(estimator, X=X, y=y, skip_check_array=True)
        X = X.to_numpy(dtype=object)
        y = column_or_1d(y)
        check_consistent_length(X, y)
    else:
        X, y = validate_data(
            estimator,
            X,
            y,
            accept_sparse=["csr", "csc"],
            dtype=[np.float64, np.float32] if numeric else None,
            ensure_all_finite=numeric,
        )
    y = column_or_1d(y)
    check_classification_targets(y)
    if sparse.issparse(X):
        X = sparse.csr_matrix(X)
    return X, y


def _numeric_frame(X):
    """Whether every column of a DataFrame has a NumPy numeric dtype."""
    return all(
        isinstance(dtype, np.dtype) and dtype.kind in "biuf" for dtype in X.dtypes
    )


def check_sample_weight(sample_weight, n_samples):
    """The one ``sample_weight`` rule of the samplers.

    Parameters
    ----------
    sample_weight : array-like of shape (n_samples,)
        Weights of the rows.
    n_samples : int
        Rows of ``X``.

    Returns
    -------
    sample_weight : ndarray of shape (n_samples,), float64
        The weights, a new array.

    Raises
    ------
    ValueError
        When the shape does not match ``X`` or a weight is NaN, infinite or
        negative.
    """
    sample_weight = np.array(sample_weight, dtype=np.float64)
    if sample_weight.ndim != 1 or sample_weight.shape[0] != n_samples:
        raise ValueError(
            f"sample_weight must have shape ({n_samples},) to match X; got "
            f"{sample_weight.shape}."
        )
    if not np.all(np.isfinite(sample_weight)) or np.any(sample_weight < 0):
        raise ValueError(
            "sample_weight must be finite and non-negative; it holds NaN, "
            "infinite or negative values."
        )
    return sample_weight


def _targets_from_dict(targets, counts, sampling_type):
    """Validate a dict ``{class: wanted count after resampling}``."""
    unknown = set(targets) - set(counts)
    if unknown:
        raise ValueError(
            f"sampling_strategy names the class(es) {sorted(unknown, key=str)}, which "
            f"are not present in y; the classes are {sorted(counts, key=str)}."
        )
    resolved = {}
    for key, wanted in targets.items():
        if not isinstance(wanted, Integral) or isinstance(wanted, bool):
            raise TypeError(
                "sampling_strategy must map classes to integer counts; got "
                f"{wanted!r} for class {key!r}."
            )
        if wanted < 0:
            raise ValueError(
                "sampling_strategy cannot ask for a negative number of samples; "
                f"got {wanted} for class {key!r}."
            )
        if sampling_type == "over-sampling":
            if wanted < counts[key]:
                raise ValueError(
                    "An over-sampler cannot remove samples: sampling_strategy asks "
                    f"for {wanted} samples of class {key!r}, which has "
                    f"{counts[key]} already. Ask for at least as many as the class "
                    "has."
                )
            resolved[key] = int(wanted) - counts[key]
        else:
            if wanted > counts[key]:
                raise ValueError(
                    "An under-sampler keeps between 0 and all the samples of a "
                    f"class: sampling_strategy asks for {wanted} samples of class "
                    f"{key!r}, which has {counts[key]}."
                )
            resolved[key] = int(wanted)
    return resolved


def resolve_sampling_strategy(sampling_strategy, y, sampling_type="over-sampling"):
    """Turn any accepted form of ``sampling_strategy`` into one canonical dict.

    The forms and their meaning are imbalanced-learn's.

    Parameters
    ----------
    sampling_strategy : float, str, dict or callable
        - float in (0, 1], binary ``y`` only: the wanted ratio of the minority
          count to the majority count after resampling;
        - str: the classes resampled, up to the majority's count
          (over-sampling: ``"minority"``, ``"not minority"``, ``"not
          majority"`` = ``"auto"``, ``"all"``) or down to the minority's count
          (under-sampling: ``"majority"``, ``"not minority"`` = ``"auto"``,
          ``"not majority"``, ``"all"``);
        - dict ``{class: wanted count after resampling}``;
        - callable ``y -> dict`` of the same form.
    y : ndarray of shape (n_samples,)
        Class labels, with at least two classes.
    sampling_type : {"over-sampling", "under-sampling"}, default="over-sampling"
        The kind of sampler.

    Returns
    -------
    strategy : dict
        Sorted by class. Over-sampling: ``{class: number of rows to add}``;
        under-sampling: ``{class: number of rows to keep}``. Classes that are
        not resampled are absent.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_metric.utils._sampling import resolve_sampling_strategy
    >>> y = np.array([0] * 6 + [1] * 2 + [2] * 3)
    >>> resolve_sampling_strategy("auto", y)
    {1: 4, 2: 3}
    >>> resolve_sampling_strategy({1: 5}, y)
    {1: 3}
    >>> resolve_sampling_strategy("auto", y, "under-sampling")
    {0: 2, 2: 2}
    """
    over = sampling_type == "over-sampling"
    counts = class_counts(y)
    if len(counts) < 2:
        raise ValueError(
            "The target y needs more than 1 class to be resampled; got "
            f"{len(counts)} class instead."
        )
    # Ties are broken by the sorted order of the classes, as in imbalanced-learn.
    minority = min(counts, key=counts.get)
    majority = max(counts, key=counts.get)
    n_minority, n_majority = counts[minority], counts[majority]
    names = STRATEGY_NAMES[sampling_type]

    if isinstance(sampling_strategy, str):
        if sampling_strategy not in names:
            hint = ""
            if sampling_strategy in ("minority", "majority"):
                hint = (
                    f" '{sampling_strategy}' has nothing to "
                    f"{'remove' if sampling_strategy == 'minority' else 'add'} "
                    f"for an {sampling_type.split('-')[0]}-sampler."
                )
            raise ValueError(
                f"sampling_strategy={sampling_strategy!r} cannot be used for "
                f"{sampling_type}; use one of {list(names)}.{hint}"
            )
        selected = {
            "minority": lambda key: key == minority,
            "majority": lambda key: key == majority,
            "not minority": lambda key: key != minority,
            "not majority": lambda key: key != majority,
            "auto": (lambda key: key != majority)
            if over
            else (lambda key: key != minority),
            "all": lambda key: True,
        }[sampling_strategy]
        if over:
            strategy = {k: n_majority - n for k, n in counts.items() if selected(k)}
        else:
            strategy = {k: n_minority for k in counts if selected(k)}
    elif isinstance(sampling_strategy, dict):
        strategy = _targets_from_dict(sampling_strategy, counts, sampling_type)
    elif callable(sampling_strategy):
        targets = sampling_strategy(y)
        if not isinstance(targets, dict):
            raise TypeError(
                "A callable sampling_strategy must return a dict {class: wanted "
                f"count}}; it returned {type(targets).__name__}."
            )
        strategy = _targets_from_dict(targets, counts, sampling_type)
    elif isinstance(sampling_strategy, Real) and not isinstance(
        sampling_strategy, bool
    ):
        if not 0 < sampling_strategy <= 1:
            raise ValueError(
                "A float sampling_strategy is the minority/majority ratio after "
                f"resampling and must be in (0, 1]; got {sampling_strategy}."
            )
        if type_of_target(y) != "binary":
            raise ValueError(
                "sampling_strategy can be a float only for a binary target; for "
                f"{len(counts)} classes, use a dict {{class: wanted count}}."
            )
        if over:
            strategy = {
                k: int(n_majority * sampling_strategy - n)
                for k, n in counts.items()
                if k != majority
            }
            if any(n <= 0 for n in strategy.values()):
                raise ValueError(
                    f"sampling_strategy={sampling_strategy} asks for fewer minority "
                    "samples than there are already, so nothing would be "
                    "generated; increase the ratio."
                )
        else:
            strategy = {
                k: int(n_minority / sampling_strategy) for k in counts if k != minority
            }
            if any(n > counts[k] for k, n in strategy.items()):
                raise ValueError(
                    f"sampling_strategy={sampling_strategy} would need more "
                    "majority samples than there are; increase the ratio."
                )
    else:
        raise TypeError(
            "sampling_strategy must be a float, a str, a dict or a callable; got "
            f"{type(sampling_strategy).__name__}."
        )
    return dict(sorted(strategy.items(), key=lambda item: item[0]))


def _is_dataframe(X):
    return hasattr(X, "columns") and hasattr(X, "dtypes") and hasattr(X, "iloc")


def _is_series(y):
    return hasattr(y, "name") and hasattr(y, "iloc") and not hasattr(y, "columns")


def rows_like_input(X_res, X_in, copied_columns=()):
    """Put computed rows (original rows first) into the caller's container.

    Parameters
    ----------
    X_res : {ndarray, sparse matrix} of shape (n_out, n_features)
        The output rows, as validated arrays.
    X_in : {array-like, sparse matrix}
        What the caller gave.
    copied_columns : sequence of int, default=()
        Positions of the columns whose output values are all input values
        (SMOTENC's categorical columns): in a DataFrame they keep their dtype
        whatever it is.

    Returns
    -------
    X_out : {ndarray, DataFrame, sparse matrix}
        A sparse matrix in the input's format (CSR or CSC); a DataFrame with the
        input's columns and a fresh RangeIndex, float and non-numeric columns in
        their input dtype and integer or boolean columns as float64 (see the
        module's dtype rule); otherwise the array.
    """
    if sparse.issparse(X_in):
        fmt = X_in.format if X_in.format in ("csr", "csc") else "csr"
        return X_res.asformat(fmt)
    if _is_dataframe(X_in):
        import pandas as pd

        frame = pd.DataFrame(X_res, columns=X_in.columns)
        copied = set(copied_columns)
        dtypes = {
            column: (
                np.float64 if dtype.kind in "biu" and position not in copied else dtype
            )
            for position, (column, dtype) in enumerate(X_in.dtypes.items())
        }
        return frame.astype(dtypes)
    return X_res


def take_rows(X_in, X, rows):
    """Input rows ``rows`` (repeats allowed) in the caller's container and dtype.

    Parameters
    ----------
    X_in : {array-like, sparse matrix}
        What the caller gave.
    X : {ndarray, sparse matrix}
        Its validated form.
    rows : ndarray of int
        Rows to take, in output order.

    Returns
    -------
    X_out : {ndarray, DataFrame, sparse matrix}
        A DataFrame keeps its columns and dtypes and gets a fresh RangeIndex; a
        sparse matrix keeps its format; an ndarray keeps its dtype.
    """
    if sparse.issparse(X_in):
        fmt = X_in.format if X_in.format in ("csr", "csc") else "csr"
        return X[rows].asformat(fmt)
    if _is_dataframe(X_in):
        return X_in.iloc[rows].reset_index(drop=True)
    if isinstance(X_in, np.ndarray) and X_in.ndim == 2:
        return X_in[rows]
    return X[rows]


def labels_like_input(y_res, y_in):
    """Labels in the caller's container: a Series keeps its name and dtype.

    Parameters
    ----------
    y_res : ndarray of shape (n_out,)
        The output labels.
    y_in : array-like
        What the caller gave.

    Returns
    -------
    y_out : {ndarray, Series}
        A Series (fresh RangeIndex) when ``y_in`` is one, else the array.
    """
    if _is_series(y_in):
        import pandas as pd

        return pd.Series(y_res, name=y_in.name, dtype=y_in.dtype)
    return y_res


class BaseSampler(OneToOneFeatureMixin, BaseEstimator, metaclass=ABCMeta):
    """Base of every sampler: validation, sampling strategy, containers, tags.

    A subclass sets ``_sampling_type`` (``"over-sampling"`` or
    ``"under-sampling"``) and implements ``fit_resample``, using
    :meth:`_prepare` (validated ``X``, ``y``, ``sample_weight``, and
    ``sampling_strategy_`` set) and the container helpers of this module.

    Parameters
    ----------
    sampling_strategy : float, str, dict or callable, default="auto"
        See :func:`resolve_sampling_strategy`.
    random_state : int, RandomState instance or None, default=None
        Seeds the sampler's random choices.
    """

    _sampling_type = "over-sampling"

    @classmethod
    def _strategy_constraint(cls, sampling_type):
        return [
            Interval(Real, 0, 1, closed="right"),
            StrOptions(set(STRATEGY_NAMES[sampling_type])),
            dict,
            callable,
        ]

    def __init__(self, sampling_strategy="auto", random_state=None):
        self.sampling_strategy = sampling_strategy
        self.random_state = random_state

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        tags.target_tags.required = True
        return tags

    def _validate_X_y(self, X, y):
        return validate_sampler_input(self, X, y)

    def _resolve_strategy(self, y):
        return resolve_sampling_strategy(self.sampling_strategy, y, self._sampling_type)

    def _prepare(self, X, y, sample_weight=None):
        """Validated ``X``, ``y`` and ``sample_weight``; sets ``sampling_strategy_``."""
        X, y = self._validate_X_y(X, y)
        if sample_weight is not None:
            sample_weight = check_sample_weight(sample_weight, X.shape[0])
        self.sampling_strategy_ = self._resolve_strategy(y)
        return X, y, sample_weight

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y):
        """Check the input and resolve the sampling strategy.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training rows.
        y : array-like of shape (n_samples,)
            Class labels.

        Returns
        -------
        self : object
            The sampler, with ``sampling_strategy_`` set.
        """
        self._prepare(X, y)
        return self

    @abstractmethod
    def fit_resample(self, X, y, sample_weight=None):
        """Resample ``X`` and ``y`` (and ``sample_weight`` when given)."""
