"""Neighbour-based estimators built on :func:`sklearn_metric.distances.knn_search`."""

from ._classification import KNeighborsClassifier

__all__ = ["KNeighborsClassifier"]
