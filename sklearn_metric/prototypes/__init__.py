"""Prototype classifiers: the LVQ family and other nearest-prototype models."""

from ._calibrated import CalibratedPrototypeClassifier
from ._cbc import CBCClassifier
from ._glvq import GLVQ, GMLVQ, GRLVQ, LGMLVQ
from ._rslvq import RSLVQ
from ._support_trivial import SupportTrivialPrototypeClassifier

__all__ = [
    "GLVQ",
    "GMLVQ",
    "GRLVQ",
    "LGMLVQ",
    "RSLVQ",
    "CalibratedPrototypeClassifier",
    "CBCClassifier",
    "SupportTrivialPrototypeClassifier",
]
