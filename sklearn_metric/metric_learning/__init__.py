"""Mahalanobis metric learning: the shared base API and constraint generators.

Learners of a Mahalanobis distance ``d(x, x') = ||L (x - x')||`` build on
:class:`MahalanobisMixin`; those fitted on pairs, triplets or quadruplets add
:class:`PairsClassifierMixin`, :class:`TripletsClassifierMixin` or
:class:`QuadrupletsClassifierMixin`. Tuples are given either as 3-D arrays of
points or as 2-D arrays of indices together with a ``preprocessor``.

:mod:`sklearn_metric.metric_learning.constraints` turns class labels into pair,
chunk and triplet constraints.
"""

from . import constraints
from ._base import (
    MahalanobisMetric,
    MahalanobisMixin,
    PairsClassifierMixin,
    QuadrupletsClassifierMixin,
    TripletsClassifierMixin,
)
from .constraints import Constraints, generate_knntriplets, wrap_pairs

__all__ = [
    "Constraints",
    "MahalanobisMetric",
    "MahalanobisMixin",
    "PairsClassifierMixin",
    "QuadrupletsClassifierMixin",
    "TripletsClassifierMixin",
    "constraints",
    "generate_knntriplets",
    "wrap_pairs",
]
