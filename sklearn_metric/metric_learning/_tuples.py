"""Validation of tuple inputs and the ``preprocessor`` machinery.

Weakly supervised metric learners are fitted on tuples of points: pairs,
triplets or quadruplets. A tuple set comes in one of two forms:

* a 3-D array of shape ``(n_tuples, tuple_size, n_features)`` holding the
  points themselves;
* a 2-D array of shape ``(n_tuples, tuple_size)`` of indicators (usually row
  indices) that a ``preprocessor`` turns into points. The preprocessor is
  either an array, whose rows are indexed, or a callable that maps a 1-D array
  of indicators to the 2-D array of their rows.

Both forms are reduced to one representation, :class:`IndexedTuples`: an array
of distinct rows and an integer array that says which row stands at each place
of each tuple. Solvers and prediction code work on that pair, so a tuple set is
never expanded into an ``(n_tuples, tuple_size, n_features)`` float array
unless the caller asks for it with :meth:`IndexedTuples.to_array`.
"""

from typing import NamedTuple

import numpy as np
from sklearn.utils.validation import (
    check_array,
    column_or_1d,
    validate_data,
)

_TUPLE_NAMES = {2: "pairs", 3: "triplets", 4: "quadruplets"}
_FLOAT_DTYPES = (np.float64, np.float32)


class IndexedTuples(NamedTuple):
    """A validated set of tuples: distinct rows plus an index array.

    Parameters
    ----------
    X : ndarray of shape (n_rows, n_features)
        The rows that the tuples refer to, float64 or float32 and finite.
    indices : ndarray of shape (n_tuples, tuple_size), dtype=intp
        ``indices[i, j]`` is the row of ``X`` at place ``j`` of tuple ``i``.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_metric.metric_learning._tuples import check_tuples
    >>> X = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 2.0]])
    >>> tuples = check_tuples([[0, 2], [2, 1]], tuple_size=2, preprocessor=X)
    >>> tuples.indices
    array([[0, 2],
           [2, 1]])
    >>> tuples.to_array().shape
    (2, 2, 2)
    """

    X: np.ndarray
    indices: np.ndarray

    @property
    def n_tuples(self):
        """Number of tuples."""
        return self.indices.shape[0]

    def to_array(self):
        """Expand the tuples into a 3-D array of points.

        Returns
        -------
        tuples : ndarray of shape (n_tuples, tuple_size, n_features)
            A new array; this is the memory-hungry form that the index
            representation exists to avoid, so call it only when needed.
        """
        return self.X[self.indices]


class _RowIndexer:
    """Preprocessor made from an array: indicator ``i`` stands for row ``X[i]``.

    A top-level class rather than a closure, so that fitted learners that keep
    it in ``preprocessor_`` can be pickled.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
        Validated rows.
    """

    def __init__(self, X):
        self.X = X

    def __call__(self, indices):
        """Return the rows at ``indices``."""
        return self.X[indices]


def check_preprocessor(preprocessor):
    """Validate a ``preprocessor`` parameter.

    Parameters
    ----------
    preprocessor : None, array-like of shape (n_samples, n_features) or callable
        ``None`` (tuples must be given as points), an array whose rows are
        indexed by the tuples, or a callable mapping a 1-D array of indicators
        to the 2-D array of the corresponding rows.

    Returns
    -------
    preprocessor : None or callable
        ``None``, the callable unchanged, or an indexer over the validated
        array (float64 or float32, finite, 2-D; the array is not copied when it
        already satisfies this).

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_metric.metric_learning._tuples import check_preprocessor
    >>> indexer = check_preprocessor(np.eye(3))
    >>> indexer(np.array([2, 0]))
    array([[0., 0., 1.],
           [1., 0., 0.]])
    """
    if preprocessor is None or isinstance(preprocessor, _RowIndexer):
        return preprocessor
    if callable(preprocessor):
        return preprocessor
    X = check_array(preprocessor, dtype=_FLOAT_DTYPES, input_name="preprocessor")
    return _RowIndexer(X)


def _tuple_kind(tuple_size):
    return _TUPLE_NAMES.get(tuple_size, f"tuples of size {tuple_size}")


def _check_tuple_size(actual, tuple_size):
    if tuple_size is not None and actual != tuple_size:
        raise ValueError(
            f"Expected {_tuple_kind(tuple_size)}, i.e. tuples of {tuple_size} "
            f"points, but the tuples given have {actual} points each."
        )


def check_tuples(tuples, *, tuple_size=None, preprocessor=None):
    """Validate a set of tuples and reduce it to rows plus indices.

    Parameters
    ----------
    tuples : array-like of shape (n_tuples, tuple_size, n_features) or \
            (n_tuples, tuple_size)
        Either the points of every tuple, or indicators of the points to be
        looked up through ``preprocessor``. The caller's array is never
        modified.
    tuple_size : int, default=None
        Number of points per tuple (2 for pairs, 3 for triplets, 4 for
        quadruplets). ``None`` accepts any size.
    preprocessor : None, array-like or callable, default=None
        See :func:`check_preprocessor`. Required for 2-D ``tuples``; ignored
        for 3-D ones, which already hold the points.

    Returns
    -------
    tuples : IndexedTuples
        For 3-D input, ``X`` is a 2-D view of the points (no copy when the input
        is a C-contiguous float array) and ``indices`` enumerates it. For 2-D
        input, ``X`` holds only the distinct rows the tuples use and
        ``indices`` points into it, so a solver can work on indices.

    Raises
    ------
    ValueError
        If the tuples have the wrong number of dimensions or the wrong size,
        contain NaN or infinity, are empty, are indices without a
        preprocessor, or are indices out of the preprocessor's range.
    TypeError
        If indices into an array preprocessor are not integers.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_metric.metric_learning._tuples import check_tuples
    >>> X = np.arange(10.0).reshape(5, 2)
    >>> tuples = check_tuples([[4, 1], [1, 3]], tuple_size=2, preprocessor=X)
    >>> tuples.X
    array([[2., 3.],
           [6., 7.],
           [8., 9.]])
    >>> tuples.indices
    array([[2, 0],
           [0, 1]])
    """
    # A first pass without dtype conversion only finds out the layout, so that
    # indices keep their integer dtype and the error can name the real problem.
    tuples = check_array(
        tuples,
        dtype=None,
        ensure_2d=False,
        allow_nd=True,
        ensure_all_finite=False,
        input_name="tuples",
    )
    if tuples.ndim == 3:
        return _check_point_tuples(tuples, tuple_size)
    if tuples.ndim == 2:
        return _check_index_tuples(tuples, tuple_size, preprocessor)
    raise ValueError(
        f"tuples must be a 3-D array of shape (n_tuples, tuple_size, n_features) "
        f"or a 2-D array of indices of shape (n_tuples, tuple_size) used with a "
        f"preprocessor; got a {tuples.ndim}-D array of shape {tuples.shape}."
    )


def _check_point_tuples(tuples, tuple_size):
    _check_tuple_size(tuples.shape[1], tuple_size)
    tuples = check_array(
        tuples,
        dtype=_FLOAT_DTYPES,
        ensure_2d=False,
        allow_nd=True,
        ensure_all_finite=True,
        input_name="tuples",
    )
    n_tuples, size, n_features = tuples.shape
    if n_features == 0:
        raise ValueError(
            f"tuples have 0 features (shape={tuples.shape}); at least 1 is required."
        )
    X = tuples.reshape(n_tuples * size, n_features)
    indices = np.arange(n_tuples * size, dtype=np.intp).reshape(n_tuples, size)
    return IndexedTuples(X, indices)


def _check_index_tuples(tuples, tuple_size, preprocessor):
    if preprocessor is None:
        raise ValueError(
            f"A 2-D array of shape {tuples.shape} was given as tuples. 2-D tuples "
            "are read as indices, but no preprocessor is set to look them up. "
            "Either pass the points as a 3-D array of shape (n_tuples, "
            "tuple_size, n_features), or set preprocessor to the data array (or a "
            "callable) the indices refer to."
        )
    _check_tuple_size(tuples.shape[1], tuple_size)
    preprocessor = check_preprocessor(preprocessor)

    if isinstance(preprocessor, _RowIndexer):
        if tuples.dtype.kind not in "iu":
            raise TypeError(
                "Index tuples into an array preprocessor must hold integers; got "
                f"dtype {tuples.dtype}."
            )
        unique, inverse = np.unique(tuples, return_inverse=True)
        n_rows = preprocessor.X.shape[0]
        if unique[0] < 0 or unique[-1] >= n_rows:
            bad = unique[(unique < 0) | (unique >= n_rows)]
            raise ValueError(
                f"Index tuples refer to rows {bad[:5].tolist()} but the "
                f"preprocessor has {n_rows} rows; indices must lie in "
                f"[0, {n_rows - 1}]."
            )
        X = preprocessor.X[unique]
    else:
        unique, inverse = np.unique(tuples, return_inverse=True)
        X = check_array(
            preprocessor(unique),
            dtype=_FLOAT_DTYPES,
            input_name="preprocessor output",
        )
        if X.shape[0] != unique.shape[0]:
            raise ValueError(
                f"The preprocessor returned {X.shape[0]} rows for "
                f"{unique.shape[0]} indicators; it must return one row per "
                "indicator."
            )
    indices = inverse.reshape(tuples.shape).astype(np.intp, copy=False)
    return IndexedTuples(X, indices)


def validate_tuples(estimator, tuples, *, tuple_size, reset):
    """Validate tuples for a learner, as ``validate_data`` does for 2-D X.

    Parameters
    ----------
    estimator : estimator instance
        The learner. With ``reset=True`` its ``preprocessor`` parameter (if it
        has one) is validated and stored in ``preprocessor_``, and
        ``n_features_in_`` is set; with ``reset=False`` the stored
        ``preprocessor_`` is used and the number of features is checked.
    tuples : array-like
        See :func:`check_tuples`.
    tuple_size : int or None
        Number of points per tuple.
    reset : bool
        True in ``fit``, False in methods that use a fitted learner.

    Returns
    -------
    tuples : IndexedTuples
        The validated tuples.
    """
    if reset:
        preprocessor = check_preprocessor(getattr(estimator, "preprocessor", None))
        estimator.preprocessor_ = preprocessor
    else:
        preprocessor = getattr(estimator, "preprocessor_", None)
    tuples = check_tuples(tuples, tuple_size=tuple_size, preprocessor=preprocessor)

    if reset:
        # Sets n_features_in_ and drops any feature_names_in_ left by an earlier
        # fit, exactly as for 2-D input.
        validate_data(estimator, tuples.X, reset=True, skip_check_array=True)
    else:
        n_features_in = getattr(estimator, "n_features_in_", None)
        n_features = tuples.X.shape[1]
        if n_features_in is not None and n_features != n_features_in:
            raise ValueError(
                f"The tuples have {n_features} features, but "
                f"{type(estimator).__name__} was fitted with {n_features_in} "
                "features."
            )
    return tuples


def check_tuple_labels(y, n_tuples):
    """Validate the labels of tuples, each -1 or +1.

    For pairs, +1 means similar and -1 dissimilar; for triplets and
    quadruplets, +1 means correctly ordered.

    Parameters
    ----------
    y : array-like of shape (n_tuples,)
        Labels, each -1 or +1.
    n_tuples : int
        Number of tuples the labels belong to.

    Returns
    -------
    y : ndarray of shape (n_tuples,), dtype=int64
        The labels as integers -1 and +1.

    Examples
    --------
    >>> from sklearn_metric.metric_learning._tuples import check_tuple_labels
    >>> check_tuple_labels([1.0, -1.0, 1.0], 3)
    array([ 1, -1,  1])
    """
    if y is None:
        raise ValueError(
            "Labels y are required: +1 for similar pairs and -1 for dissimilar ones."
        )
    y = column_or_1d(y, warn=True)
    if y.shape[0] != n_tuples:
        raise ValueError(
            f"Found {n_tuples} tuples but {y.shape[0]} labels; there must be one "
            "label per tuple."
        )
    is_valid = (y == 1) | (y == -1)
    if not np.all(is_valid):
        bad = np.unique(y[~is_valid])
        raise ValueError(
            f"Labels y must be +1 or -1; got other values {bad[:5].tolist()}."
        )
    return np.where(y == 1, 1, -1)


def validate_points(estimator, X, y="no_validation", *, reset, **check_params):
    """``validate_data`` for samples, which may be indicators for a preprocessor.

    A learner fitted with a ``preprocessor`` accepts, in ``fit`` and
    ``transform``, a 1-D array of indicators (row indices into an array
    preprocessor, or the input of a callable one) in place of the 2-D samples,
    as metric-learn does. 2-D input is taken as the samples themselves.

    Parameters
    ----------
    estimator : estimator instance
        The learner. With ``reset=True`` its ``preprocessor`` parameter (if it
        has one) is validated and stored in ``preprocessor_``; with
        ``reset=False`` the stored ``preprocessor_`` is used.
    X : array-like of shape (n_samples, n_features) or (n_samples,)
        Samples, or indicators when a preprocessor is set.
    y : array-like of shape (n_samples,), default="no_validation"
        Targets, validated with ``X`` when given (``None`` raises, as
        ``validate_data`` does for an estimator that requires ``y``).
    reset : bool
        True in ``fit``, False in methods that use a fitted learner.
    **check_params : dict
        Passed to ``validate_data``; ``dtype`` defaults to float64 or float32.

    Returns
    -------
    X : ndarray of shape (n_samples, n_features)
        The validated samples.
    y : ndarray of shape (n_samples,)
        The validated targets, only when ``y`` is given.
    """
    if reset:
        preprocessor = check_preprocessor(getattr(estimator, "preprocessor", None))
        estimator.preprocessor_ = preprocessor
    else:
        preprocessor = getattr(estimator, "preprocessor_", None)
    if preprocessor is not None and np.ndim(X) == 1:
        indicators = check_array(
            X, dtype=None, ensure_2d=False, ensure_all_finite=False, input_name="X"
        )
        rows = _check_index_tuples(indicators[:, np.newaxis], 1, preprocessor)
        X = rows.X[rows.indices[:, 0]]
    check_params.setdefault("dtype", list(_FLOAT_DTYPES))
    return validate_data(estimator, X, y, reset=reset, **check_params)
