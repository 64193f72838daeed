"""Input handling shared by the over- and under-samplers."""

import numpy as np
from scipy import sparse
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import column_or_1d, validate_data


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


def validate_sampler_input(estimator, X, y):
    """Validate the rows and labels given to a sampler's ``fit`` or ``fit_resample``.

    Parameters
    ----------
    estimator : estimator
        The sampler; ``n_features_in_`` and ``feature_names_in_`` are set on it.
    X : {array-like, sparse matrix} of shape (n_samples, n_features)
        Finite float rows; CSC input is turned into CSR.
    y : array-like of shape (n_samples,)
        Classification targets.

    Returns
    -------
    X : {ndarray, csr_matrix} of shape (n_samples, n_features)
        float64 or float32 rows.
    y : ndarray of shape (n_samples,)
        The labels.
    """
    X, y = validate_data(
        estimator,
        X,
        y,
        accept_sparse=["csr", "csc"],
        dtype=[np.float64, np.float32],
        ensure_all_finite=True,
    )
    y = column_or_1d(y)
    check_classification_targets(y)
    if sparse.issparse(X):
        X = sparse.csr_matrix(X)
    return X, y
