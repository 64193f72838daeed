"""The base class of the over-samplers: interpolation and provenance.

:class:`BaseOverSampler` adds to the shared
:class:`~sklearn_metric.utils._sampling.BaseSampler` (validation,
``sample_weight``, ``sampling_strategy``, containers, tags) only what is proper
to over-sampling: it calls the subclass's ``_fit_resample`` for the synthetic
rows, writes interpolated rows straight into the output, records their
provenance, and puts the original rows first and the synthetic rows after
them, in the caller's container.
"""

from abc import abstractmethod
from collections import namedtuple
from numbers import Integral

import numpy as np
from scipy import sparse
from sklearn.base import _fit_context

from .._kernels._threads import parallel_section, threads_for_work
from .._metric import METRIC_CONSTRAINT
from ..utils._sampling import (
    BaseSampler,
    labels_like_input,
    resolve_sampling_strategy,
    rows_like_input,
)
from ._kernels import interpolate_into

__all__ = [
    "BaseOverSampler",
    "SyntheticPairs",
    "interpolate",
    "resolve_sampling_strategy",
]

#: What ``_fit_resample`` returns besides the synthetic rows and labels: for
#: each synthetic row, the two parent rows (indices into the input ``X``) and
#: the step ``t`` with ``x_new = X[a] + t * (X[b] - X[a])``. A step outside
#: [0, 1) means extrapolation (SVMSMOTE's safe rows use negative steps).
SyntheticPairs = namedtuple("SyntheticPairs", ["parents", "steps"])


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


#: The ``sampling_strategy`` entry shared by every over-sampler's docstring.
SAMPLING_STRATEGY_DOC = """\
    sampling_strategy : float, str, dict or callable, default="auto"
        How many samples each class should have after resampling:

        - float in (0, 1], binary targets only: the ratio of minority to
          majority samples after resampling;
        - ``"minority"``: only the minority class, up to the majority's count;
        - ``"not majority"`` (same as ``"auto"``), ``"not minority"``,
          ``"all"``: those classes, up to the majority's count;
        - dict ``{class: wanted count}``, each at least the class's count;
        - callable ``y -> dict`` of the same form.
"""


def shared_docs(docstring):
    """Put the shared parameter entries into an over-sampler's docstring.

    Parameters
    ----------
    docstring : str
        The docstring, with a ``{sampling_strategy}`` line, indented as a
        parameter, where the entry goes.

    Returns
    -------
    docstring : str
    """
    return docstring.replace("    {sampling_strategy}\n", SAMPLING_STRATEGY_DOC)


class BaseOverSampler(BaseSampler):
    """Base class of the over-samplers: interpolation and provenance.

    A subclass implements ``_fit_resample(X, y, sampling_strategy)``, which gets
    validated ``X`` (float ndarray or CSR matrix) and ``y`` (1-d ndarray) and
    returns ``(X_new, y_new, SyntheticPairs(parents, steps))`` for the synthetic
    rows only, ``parents`` being an int array (n_new, 2) of row indices into
    ``X`` and ``steps`` a float array (n_new,). ``X_new`` may be ``None`` when
    every synthetic row is the interpolation ``X[a] + t * (X[b] - X[a])`` of
    its parents: the base then writes those rows straight into the output.

    Parameters
    ----------
    {sampling_strategy}
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

    __doc__ = shared_docs(__doc__)

    _sampling_type = "over-sampling"

    _parameter_constraints = {
        "sampling_strategy": BaseSampler._strategy_constraint("over-sampling"),
        "random_state": ["random_state"],
    }

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
        X, y, sample_weight = self._prepare(X, y, sample_weight)

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
        output = [self._output_rows(X_res, X_in), labels_like_input(y_res, y_in)]
        if sample_weight is not None:
            t = np.clip(steps, 0.0, 1.0)
            w_new = (1.0 - t) * sample_weight[parents[:, 0]] + t * sample_weight[
                parents[:, 1]
            ]
            output.append(np.concatenate([sample_weight, w_new]))
        return tuple(output)

    def _output_rows(self, X_res, X_in):
        """The output rows in the caller's container (see the dtype rule)."""
        return rows_like_input(X_res, X_in)

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
