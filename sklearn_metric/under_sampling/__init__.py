"""Under-samplers: keep a chosen subset of the rows of imbalanced classes."""

from ._cluster_complexity import ClusterComplexityUnderSampler

__all__ = ["ClusterComplexityUnderSampler"]
