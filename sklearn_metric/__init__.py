"""Distance-based learning for tabular data, with a scikit-learn API.

``sklearn_metric`` groups the estimators for which a distance decides the answer:
learned Mahalanobis metrics, prototype classifiers, neighbour methods,
SMOTE-style resampling and linear-SVM heads. All of them share the exact,
chunked and parallel Numba kernels exposed in :mod:`sklearn_metric.distances`.
"""

from ._show_versions import show_versions

__version__ = "0.1.0.dev0"

__all__ = [
    "__version__",
    "show_versions",
]
