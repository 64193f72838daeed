"""Neighbour-based estimators: exact and adaptive kNN, and the HNSW index."""

from ._classification import KNeighborsClassifier
from ._expected_accuracy import (
    ExpectedAccuracyKNNClassifier,
    ExpectedAccuracyKNNRegressor,
)
from ._hnsw import HNSWIndex, HNSWNeighborsTransformer

__all__ = [
    "HNSWIndex",
    "HNSWNeighborsTransformer",
    "KNeighborsClassifier",
    "ExpectedAccuracyKNNClassifier",
    "ExpectedAccuracyKNNRegressor",
]
