"""The base class every over-sampler shares, and the interpolation they all use.

:class:`BaseOverSampler` does the parts that are the same for every sampler:
it validates ``X``, ``y`` and ``sample_weight``, turns ``sampling_strategy`` into
the number of rows to add per class, remembers the container of the input
(ndarray, pandas DataFrame, sparse matrix), calls the subclass's
``_fit_resample`` for the synthetic rows only, and puts the original rows first
and the synthetic rows after them, in the caller's container.
"""

from abc import ABCMeta, abstractmethod
from collections import namedtuple
from numbers import Integral, Real

import numpy as np
from scipy import sparse
from sklearn.base import BaseEstimator, OneToOneFeatureMixin, _fit_context
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.multiclass import type_of_target

from .._kernels._threads import parallel_section, threads_for_work
from .._metric import METRIC_CONSTRAINT
from ..utils._sampling import class_counts, validate_sampler_input
from ._kernels import interpolate_into

__all__ = ["BaseOverSampler", "SyntheticPairs", "interpolate"]

#: What ``_fit_resample`` returns besides the synthetic rows and labels: for
#: each synthetic row, the two parent rows (indices into the input ``X``) and
#: the step ``t`` with ``x_new = X[a] + t * (X[b] - X[a])``. A step outside
#: [0, 1) means extrapolation (SVMSMOTE's safe rows use negative steps).
SyntheticPairs = namedtuple("SyntheticPairs", ["parents", "steps"])

_STRATEGY_NAMES = ("minority", "not minority", "not majority", "all", "auto")


def interpolate(X, rows, neighbors_of_rows, steps):
    """Points on the segments from ``X[rows]`` towards ``X[neighbors_of_rows]``.

    Parameters
    ----------
    X : {ndarray, sparse matrix} of shape (n_samples, n_features)
        Rows to interpolate between.
    rows : ndarray of shape (n_new,)
        Index of the starting row of each new point.
    neighbors_of_rows : ndarray of shape (n_new,)
        Index of the row each new point moves towards.
    steps : ndarray of shape (n_new,)
        Fraction of the way travelled: 0 gives ``X[rows]``, 1 gives
        ``X[neighbors_of_rows]``; negative values move away from the neighbour.

    Returns
    -------
    X_new : {ndarray, sparse matrix} of shape (n_new, n_features)
        ``X[rows] + steps * (X[neighbors_of_rows] - X[rows])``, dense when ``X``
        is dense and CSR when it is sparse, in the dtype of ``X``.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_metric.over_sampling._base import interpolate
    >>> X = np.array([[0.0, 0.0], [2.0, 4.0]])
    >>> interpolate(X, np.array([0, 1]), np.array([1, 0]), np.array([0.5, 0.25]))
    array([[1. , 2. ],
           [1.5, 3. ]])
    """
    rows = np.asarray(rows, dtype=np.intp)
    neighbors_of_rows = np.asarray(neighbors_of_rows, dtype=np.intp)
    steps = np.asarray(steps, dtype=X.dtype)
    if sparse.issparse(X):
        X = sparse.csr_matrix(X)
        start = X[rows]
        moved = sparse.diags(steps) @ (X[neighbors_of_rows] - start)
        return sparse.csr_matrix(start + moved, dtype=X.dtype)
    start = X[rows]
    X_new = X[neighbors_of_rows]
    X_new -= start
    X_new *= steps[:, None]
    X_new += start
    return X_new


def _targets_from_dict(targets, counts):
    """Rows to add per class from a dict {class: wanted count after resampling}."""
    unknown = set(targets) - set(counts)
    if unknown:
        raise ValueError(
            f"sampling_strategy names the class(es) {sorted(unknown, key=str)}, which "
            f"are not present in y; the classes are {sorted(counts, key=str)}."
        )
    negative = {key: value for key, value in targets.items() if value < 0}
    if negative:
        raise ValueError(
            "sampling_strategy cannot ask for a negative number of samples; got "
            f"{negative}."
        )
    to_add = {}
    for key, wanted in targets.items():
        if wanted < counts[key]:
            raise ValueError(
                "An over-sampler cannot remove samples: sampling_strategy asks for "
                f"{wanted} samples of class {key!r}, which has {counts[key]} "
                "already. Ask for at least as many as the class has."
            )
        to_add[key] = int(wanted) - counts[key]
    return to_add


def resolve_sampling_strategy(sampling_strategy, y):
    """Turn any accepted form of ``sampling_strategy`` into rows to add per class.

    Parameters
    ----------
    sampling_strategy : float, str, dict or callable
        See :class:`BaseOverSampler`.
    y : ndarray of shape (n_samples,)
        Class labels, with at least two classes.

    Returns
    -------
    to_add : dict
        ``{class: number of synthetic rows to generate}``, sorted by class.
        Classes that are not resampled are absent.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_metric.over_sampling._base import resolve_sampling_strategy
    >>> y = np.array([0] * 6 + [1] * 2 + [2] * 3)
    >>> resolve_sampling_strategy("auto", y)
    {1: 4, 2: 3}
    >>> resolve_sampling_strategy({1: 5}, y)
    {1: 3}
    """
    counts = class_counts(y)
    if len(counts) < 2:
        raise ValueError(
            "The target y needs more than 1 class to be resampled; got "
            f"{len(counts)} class instead."
        )
    n_majority = max(counts.values())
    majority = max(counts, key=counts.get)
    minority = min(counts, key=counts.get)

    if isinstance(sampling_strategy, str):
        if sampling_strategy not in _STRATEGY_NAMES:
            raise ValueError(
                f"sampling_strategy={sampling_strategy!r} is not one of "
                f"{_STRATEGY_NAMES} for an over-sampler."
            )
        keep = {
            "minority": lambda key: key == minority,
            "not minority": lambda key: key != minority,
            "not majority": lambda key: key != majority,
            "auto": lambda key: key != majority,
            "all": lambda key: True,
        }[sampling_strategy]
        to_add = {key: n_majority - n for key, n in counts.items() if keep(key)}
    elif isinstance(sampling_strategy, dict):
        to_add = _targets_from_dict(sampling_strategy, counts)
    elif callable(sampling_strategy):
        targets = sampling_strategy(y)
        if not isinstance(targets, dict):
            raise TypeError(
                "A callable sampling_strategy must return a dict {class: wanted "
                f"count}}; it returned {type(targets).__name__}."
            )
        to_add = _targets_from_dict(targets, counts)
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
                "more classes, use a dict {class: wanted count}."
            )
        to_add = {
            key: int(n_majority * sampling_strategy - n)
            for key, n in counts.items()
            if key != majority
        }
        if any(n <= 0 for n in to_add.values()):
            raise ValueError(
                f"sampling_strategy={sampling_strategy} asks for fewer minority "
                "samples than there are already, so nothing would be generated; "
                "increase the ratio."
            )
    else:
        raise TypeError(
            "sampling_strategy must be a float, a str, a dict or a callable; got "
            f"{type(sampling_strategy).__name__}."
        )
    return dict(sorted(to_add.items(), key=lambda item: item[0]))


def _check_sample_weight(sample_weight, n_samples):
    sample_weight = np.asarray(sample_weight, dtype=np.float64)
    if sample_weight.ndim != 1 or sample_weight.shape[0] != n_samples:
        raise ValueError(
            f"sample_weight must have shape ({n_samples},) to match X; got "
            f"{sample_weight.shape}."
        )
    if not np.all(np.isfinite(sample_weight)) or np.any(sample_weight < 0):
        raise ValueError("sample_weight must be finite and non-negative.")
    return sample_weight


class BaseOverSampler(OneToOneFeatureMixin, BaseEstimator, metaclass=ABCMeta):
    """Base class of the over-samplers: validation, strategy and containers.

    A subclass implements ``_fit_resample(X, y, sampling_strategy)``, which gets
    validated ``X`` (float ndarray or CSR matrix) and ``y`` (1-d ndarray) and
    returns ``(X_new, y_new, SyntheticPairs(parents, steps))`` for the synthetic
    rows only, ``parents`` being an int array (n_new, 2) of row indices into
    ``X`` and ``steps`` a float array (n_new,). ``X_new`` may be ``None`` when
    every synthetic row is the interpolation ``X[a] + t * (X[b] - X[a])`` of
    its parents: the base then writes those rows straight into the output.

    Parameters
    ----------
    sampling_strategy : float, str, dict or callable, default="auto"
        How many samples each class should have after resampling:

        - float in (0, 1], binary targets only: the ratio of minority to
          majority samples after resampling;
        - ``"minority"``: only the minority class, up to the majority's count;
        - ``"not majority"`` (same as ``"auto"``), ``"not minority"``,
          ``"all"``: those classes, up to the majority's count;
        - dict ``{class: wanted count}``, each at least the class's count;
        - callable ``y -> dict`` of the same form.
    random_state : int, RandomState instance or None, default=None
        Seeds the random choices of rows, neighbours and steps.

    Attributes
    ----------
    sampling_strategy_ : dict
        ``{class: number of synthetic rows generated}``.
    synthetic_pairs_ : dict
        Provenance of the synthetic rows of the last ``fit_resample``:
        ``"parents"``, an int array (n_new, 2) of the two parent rows (indices
        into the input ``X``), and ``"steps"``, the fraction of the way from
        the first parent to the second.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of the features, when ``X`` has string column names.
    """

    _sampling_type = "over-sampling"

    _parameter_constraints = {
        "sampling_strategy": [
            Interval(Real, 0, 1, closed="right"),
            StrOptions(set(_STRATEGY_NAMES)),
            dict,
            callable,
        ],
        "random_state": ["random_state"],
    }

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
        X, y = self._validate_X_y(X, y)
        self.sampling_strategy_ = resolve_sampling_strategy(self.sampling_strategy, y)
        return self

    @_fit_context(prefer_skip_nested_validation=True)
    def fit_resample(self, X, y, sample_weight=None):
        """Add synthetic rows to the classes that ``sampling_strategy`` selects.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training rows: ndarray, pandas DataFrame or sparse matrix.
        y : array-like of shape (n_samples,)
            Class labels.
        sample_weight : array-like of shape (n_samples,), default=None
            Weights of the rows. When given, resampled weights are returned
            too: a synthetic row between parents ``a`` and ``b`` at step ``t``
            gets ``(1 - t) * w[a] + t * w[b]`` (``t`` clipped to [0, 1]).

        Returns
        -------
        X_resampled : {ndarray, DataFrame, sparse matrix}
            Of shape (n_samples + n_new, n_features).
            The original rows followed by the synthetic rows, in the container
            of ``X`` (a DataFrame gets the same columns and dtypes and a fresh
            RangeIndex; a sparse matrix stays in its format).
        y_resampled : {ndarray, Series} of shape (n_samples + n_new,)
            The labels in the same order (a Series keeps its name).
        sample_weight_resampled : ndarray of shape (n_samples + n_new,)
            Only when ``sample_weight`` is given.
        """
        X_in, y_in = X, y
        X, y = self._validate_X_y(X, y)
        if sample_weight is not None:
            sample_weight = _check_sample_weight(sample_weight, X.shape[0])
        self.sampling_strategy_ = resolve_sampling_strategy(self.sampling_strategy, y)

        X_new, y_new, pairs = self._fit_resample(X, y, self.sampling_strategy_)
        parents = np.asarray(pairs.parents, dtype=np.intp).reshape(-1, 2)
        steps = np.asarray(pairs.steps, dtype=np.float64).reshape(-1)
        self.synthetic_pairs_ = {"parents": parents, "steps": steps}

        if X_new is None:
            X_res = _stack_interpolated(
                X, parents, steps, getattr(self, "n_jobs", None)
            )
        elif sparse.issparse(X):
            X_res = sparse.vstack(
                [X, sparse.csr_matrix(X_new, dtype=X.dtype)], format="csr"
            )
        else:
            X_res = np.concatenate([X, np.asarray(X_new, dtype=X.dtype)])
        y_res = np.concatenate([y, np.asarray(y_new, dtype=y.dtype)])
        output = [_like_X(X_res, X_in), _like_y(y_res, y_in)]
        if sample_weight is not None:
            t = np.clip(steps, 0.0, 1.0)
            w_new = (1.0 - t) * sample_weight[parents[:, 0]] + t * sample_weight[
                parents[:, 1]
            ]
            output.append(np.concatenate([sample_weight, w_new]))
        return tuple(output)

    @abstractmethod
    def _fit_resample(self, X, y, sampling_strategy):
        """Synthetic rows, their labels and their :data:`SyntheticPairs`."""


def _stack_interpolated(X, parents, steps, n_jobs):
    """``X`` followed by its interpolated rows, built in place for dense ``X``."""
    if sparse.issparse(X):
        X_new = interpolate(X, parents[:, 0], parents[:, 1], steps)
        return sparse.vstack([X, X_new], format="csr")
    n_samples, n_features = X.shape
    X_res = np.empty((n_samples + len(steps), n_features), dtype=X.dtype)
    X_res[:n_samples] = X
    n_threads = threads_for_work(len(steps) * n_features, n_jobs)
    with parallel_section(n_threads):
        interpolate_into(
            np.ascontiguousarray(X),
            parents[:, 0],
            parents[:, 1],
            steps.astype(X.dtype),
            X_res[n_samples:],
        )
    return X_res


def _like_X(X_res, X_in):
    """Put the resampled rows back into the container the caller gave."""
    if sparse.issparse(X_in):
        fmt = X_in.format if X_in.format in ("csr", "csc") else "csr"
        return X_res.asformat(fmt)
    if hasattr(X_in, "columns") and hasattr(X_in, "dtypes"):
        import pandas as pd

        frame = pd.DataFrame(X_res, columns=X_in.columns)
        return frame.astype(X_in.dtypes.to_dict())
    return X_res


def _like_y(y_res, y_in):
    if hasattr(y_in, "name") and hasattr(y_in, "to_numpy"):
        import pandas as pd

        return pd.Series(y_res, name=y_in.name, dtype=y_in.dtype)
    return y_res


def empty_synthetic(X, y):
    """What ``_fit_resample`` returns when no synthetic row is generated.

    Parameters
    ----------
    X : {ndarray, sparse matrix} of shape (n_samples, n_features)
        The validated rows.
    y : ndarray of shape (n_samples,)
        The validated labels.

    Returns
    -------
    X_new, y_new, pairs : tuple
        Zero rows of ``X``'s width and dtype, zero labels of ``y``'s dtype, and
        empty :data:`SyntheticPairs`.
    """
    if sparse.issparse(X):
        X_new = sparse.csr_matrix((0, X.shape[1]), dtype=X.dtype)
    else:
        X_new = np.empty((0, X.shape[1]), dtype=X.dtype)
    return (X_new, y[:0], SyntheticPairs(np.empty((0, 2), dtype=np.intp), np.empty(0)))


def check_n_neighbors(n_neighbors, n_class, class_label, name):
    """Raise a clear error when a class is too small for ``n_neighbors``.

    Parameters
    ----------
    n_neighbors : int
        Neighbours asked for, not counting the row itself.
    n_class : int
        Rows of the class.
    class_label : object
        The class, for the message.
    name : str
        The parameter's name, for the message.
    """
    if n_neighbors >= n_class:
        raise ValueError(
            f"{name}={n_neighbors} needs more than {n_neighbors} samples in each "
            f"resampled class; class {class_label!r} has {n_class}. Lower {name} or "
            "leave that class out of sampling_strategy."
        )


# Shared constraints of the neighbour-based over-samplers.
NEIGHBOR_CONSTRAINTS = {
    "metric": METRIC_CONSTRAINT,
    "metric_params": [dict, None],
    "n_jobs": [Integral, None],
}


def draw_neighbors(random_state, neighbor_table, n_samples):
    """Draw SMOTE's (row, neighbour, step) triples uniformly.

    A row and one of its neighbours are drawn together, uniformly among the
    cells of ``neighbor_table``, which picks rows uniformly with replacement
    and then a uniform neighbour; the step is uniform in [0, 1).

    Parameters
    ----------
    random_state : RandomState
        Source of randomness.
    neighbor_table : ndarray of shape (n_rows, n_neighbors)
        Row ``i`` holds the neighbours of candidate row ``i``.
    n_samples : int
        Triples to draw.

    Returns
    -------
    rows : ndarray of shape (n_samples,)
        Positions of the drawn rows in ``neighbor_table``.
    neighbors : ndarray of shape (n_samples,)
        The drawn neighbour of each row, as stored in ``neighbor_table``.
    steps : ndarray of shape (n_samples,)
        Uniform steps in [0, 1).
    """
    n_neighbors = neighbor_table.shape[1]
    cells = random_state.randint(low=0, high=neighbor_table.size, size=n_samples)
    steps = random_state.uniform(size=n_samples)
    rows, cols = np.divmod(cells, n_neighbors)
    return rows, neighbor_table[rows, cols], steps
