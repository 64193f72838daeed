"""Which minority rows sit on the class border, for Borderline-SMOTE and SVM-SMOTE."""

import numpy as np

__all__ = ["danger_mask"]


def danger_mask(y, neighbors, class_label):
    """Which rows are "in danger": at least half but not all neighbours foreign.

    Parameters
    ----------
    y : ndarray of shape (n_samples,)
        Labels of the whole set.
    neighbors : ndarray of shape (n_rows, m_neighbors)
        Neighbours of the rows of class ``class_label`` among the whole set.
    class_label : object
        The class of the rows.

    Returns
    -------
    in_danger : ndarray of shape (n_rows,) of bool
        ``m / 2 <= n_foreign < m``.
    """
    m_neighbors = neighbors.shape[1]
    n_foreign = np.count_nonzero(y[neighbors] != class_label, axis=1)
    return (n_foreign >= m_neighbors / 2) & (n_foreign < m_neighbors)
