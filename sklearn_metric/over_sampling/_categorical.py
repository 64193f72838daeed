"""Helpers shared by the categorical over-samplers, SMOTENC and SMOTEN.

Validation that keeps strings and categories, the encoding of categorical
columns into integer codes, and the vote of the neighbours' categories.
"""

import numpy as np
from scipy import sparse

from .._kernels._threads import parallel_section, threads_for_work
from ..utils._sampling import validate_sampler_input
from . import _kernels as _kc

__all__ = [
    "one_hot",
    "category_votes",
    "encode_categories",
    "is_dataframe",
    "validate_categorical_X_y",
]


def is_dataframe(X):
    """Whether ``X`` is a pandas-like DataFrame."""
    return hasattr(X, "columns") and hasattr(X, "dtypes") and hasattr(X, "iloc")


def validate_categorical_X_y(estimator, X, y, *, integers_to_float=True):
    """Validate ``X`` and ``y`` keeping strings and categories as they are.

    Numeric arrays with integer or boolean dtype become float64 when
    ``integers_to_float`` (their continuous columns are interpolated); float
    arrays keep their dtype;
    anything else (strings, mixed DataFrames) becomes an object array. Sparse
    input stays CSR.

    Parameters
    ----------
    estimator : BaseEstimator
        The sampler; ``n_features_in_`` and ``feature_names_in_`` are set on it.
    X : {array-like, sparse matrix} of shape (n_samples, n_features)
        Rows.
    y : array-like of shape (n_samples,)
        Class labels.
    integers_to_float : bool, default=True
        Whether integer and boolean arrays become float64.

    Returns
    -------
    X : {ndarray, sparse matrix} of shape (n_samples, n_features)
        Validated rows.
    y : ndarray of shape (n_samples,)
        Validated labels.
    """
    X, y = validate_sampler_input(estimator, X, y, numeric=False)
    if (
        X.dtype.kind in "fc"
        and X.size
        and not np.all(np.isfinite(X.data if sparse.issparse(X) else X))
    ):
        raise ValueError(
            "Input X contains NaN or infinity; SMOTENC and SMOTEN need complete, "
            "finite data."
        )
    if sparse.issparse(X):
        if X.dtype.kind not in "fc" and integers_to_float:
            X = X.astype(np.float64)
    elif X.dtype.kind in "biu":
        if integers_to_float:
            X = X.astype(np.float64)
    elif X.dtype.kind not in "fO":
        X = X.astype(object)
    if X.dtype == object and X.size and np.any(_is_missing(X)):
        raise ValueError(
            "Input X contains NaN or None; SMOTENC and SMOTEN need complete data. "
            "Impute the missing values or encode them as a category of their own."
        )
    return X, y


def _missing_scalar(value):
    if value is None or (isinstance(value, float) and value != value):
        return True
    # pandas.NA and pandas.NaT, without importing pandas
    return type(value).__name__ in ("NAType", "NaTType")


_is_missing = np.frompyfunc(_missing_scalar, 1, 1)


def encode_categories(encoder, X_categorical, name="categorical_encoder"):
    """Fit ``encoder`` and return one non-negative int64 code column per feature.

    Parameters
    ----------
    encoder : estimator
        An unfitted clone of the encoder (e.g. ``OrdinalEncoder``).
    X_categorical : ndarray of shape (n_samples, n_categorical)
        The categorical columns.
    name : str, default="categorical_encoder"
        The parameter's name, for error messages.

    Returns
    -------
    codes : ndarray of shape (n_samples, n_categorical), dtype int64
        The codes.
    n_levels : ndarray of shape (n_categorical,), dtype int64
        One more than the largest code of each column.
    """
    codes = encoder.fit_transform(X_categorical)
    if sparse.issparse(codes):
        codes = codes.toarray()
    codes = np.asarray(codes)
    if codes.ndim != 2 or codes.shape[1] != X_categorical.shape[1]:
        raise ValueError(
            f"{name} must encode each categorical feature as one column of integer "
            f"codes (like OrdinalEncoder); it turned {X_categorical.shape[1]} "
            f"columns into {codes.shape[1] if codes.ndim == 2 else codes.shape}. "
            "One-hot encoders are not needed: the distances are computed from "
            "the codes."
        )
    if (
        not np.all(np.isfinite(codes))
        or np.any(codes < 0)
        or np.any(codes != np.round(codes))
    ):
        raise ValueError(
            f"{name} must produce non-negative integer codes without missing "
            "values; encode missing categories as a category of their own."
        )
    codes = codes.astype(np.int64)
    n_levels = (
        codes.max(axis=0) + 1
        if codes.shape[0]
        else np.zeros(codes.shape[1], dtype=np.int64)
    )
    return np.ascontiguousarray(codes), n_levels


def category_votes(codes, members, tie_draws, *, n_jobs=None):
    """Most common code per feature among each row of ``members``.

    Parameters
    ----------
    codes : ndarray of shape (n_rows, n_categorical), int64
        Category codes.
    members : ndarray of shape (n_new, n_members)
        The voting rows of each new row.
    tie_draws : ndarray of shape (n_new, n_categorical)
        Uniform numbers in [0, 1) choosing among tied codes (zeros: smallest).
    n_jobs : int, default=None
        Threads.

    Returns
    -------
    winners : ndarray of shape (n_new, n_categorical), int64
        The winning codes.
    """
    members = np.ascontiguousarray(members, dtype=np.int64)
    out = np.empty((members.shape[0], codes.shape[1]), dtype=np.int64)
    work = members.size * codes.shape[1] * 8
    with parallel_section(threads_for_work(work, n_jobs)):
        _kc.categorical_mode(
            codes, members, np.ascontiguousarray(tie_draws, dtype=np.float64), out
        )
    return out


def one_hot(codes, n_levels, value=1.0):
    """One-hot columns of category codes, one block of columns per feature.

    Parameters
    ----------
    codes : ndarray of shape (n_rows, n_categorical), int64
        Category codes.
    n_levels : ndarray of shape (n_categorical,)
        Number of codes of each feature.
    value : float, default=1.0
        Value of the set entries.

    Returns
    -------
    encoded : ndarray of shape (n_rows, n_levels.sum()), float64
        ``encoded[i, offsets[f] + codes[i, f]] = value``, zeros elsewhere.
    """
    offsets = np.concatenate([[0], np.cumsum(n_levels)[:-1]]).astype(np.intp)
    encoded = np.zeros((codes.shape[0], int(np.sum(n_levels))))
    rows = np.repeat(np.arange(codes.shape[0]), codes.shape[1])
    encoded[rows, (codes + offsets).ravel()] = value
    return encoded
