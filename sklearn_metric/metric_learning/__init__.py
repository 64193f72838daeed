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
from ._covariance import Covariance
from ._itml import ITML, ITML_Supervised
from ._lfda import LFDA
from ._lmnn import LMNN
from ._lsml import LSML, LSML_Supervised
from ._mlkr import MLKR
from ._mmc import MMC, MMC_Supervised
from ._nca import NCA
from ._rca import RCA, RCA_Supervised
from ._scml import SCML, SCML_Supervised
from ._sdml import SDML, SDML_Supervised
from .constraints import Constraints, generate_knntriplets, wrap_pairs

__all__ = [
    "Constraints",
    "Covariance",
    "ITML",
    "ITML_Supervised",
    "LFDA",
    "LMNN",
    "LSML",
    "LSML_Supervised",
    "MLKR",
    "MMC",
    "MMC_Supervised",
    "MahalanobisMetric",
    "MahalanobisMixin",
    "NCA",
    "PairsClassifierMixin",
    "QuadrupletsClassifierMixin",
    "RCA",
    "RCA_Supervised",
    "SCML",
    "SCML_Supervised",
    "SDML",
    "SDML_Supervised",
    "TripletsClassifierMixin",
    "constraints",
    "generate_knntriplets",
    "wrap_pairs",
]
