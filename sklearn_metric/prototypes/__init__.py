"""Prototype classifiers: the LVQ family and other nearest-prototype models."""

from ._calibrated import CalibratedPrototypeClassifier
from ._cbc import CBCClassifier
from ._equiangular import EquiangularBasisClassifier, equiangular_basis
from ._glvq import GLVQ, GMLVQ, GRLVQ, LGMLVQ
from ._nearest_prototype import NearestPrototypeClassifier
from ._rslvq import RSLVQ
from ._soft_nn import SoftNearestNeighborClassifier
from ._support_trivial import SupportTrivialPrototypeClassifier

__all__ = [
    "GLVQ",
    "GMLVQ",
    "GRLVQ",
    "LGMLVQ",
    "RSLVQ",
    "CalibratedPrototypeClassifier",
    "CBCClassifier",
    "EquiangularBasisClassifier",
    "NearestPrototypeClassifier",
    "SoftNearestNeighborClassifier",
    "SupportTrivialPrototypeClassifier",
    "equiangular_basis",
]
