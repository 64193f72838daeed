"""Prototype classifiers: the LVQ family and other nearest-prototype models."""

from ._calibrated import CalibratedPrototypeClassifier
from ._glvq import GLVQ, GMLVQ, GRLVQ, LGMLVQ
from ._rslvq import RSLVQ

__all__ = [
    "GLVQ",
    "GMLVQ",
    "GRLVQ",
    "LGMLVQ",
    "RSLVQ",
    "CalibratedPrototypeClassifier",
]
