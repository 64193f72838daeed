"""Over-samplers: synthetic minority rows, for imbalanced classification."""

from ._adasyn import ADASYN
from ._borderline import BorderlineSMOTE
from ._gaussian_calibrated import GaussianCalibratedOverSampler
from ._kmeans_smote import KMeansSMOTE
from ._random_over_sampler import RandomOverSampler
from ._smote import SMOTE
from ._smote_nc import SMOTENC
from ._smoten import SMOTEN
from ._svm_smote import SVMSMOTE

__all__ = [
    "ADASYN",
    "BorderlineSMOTE",
    "GaussianCalibratedOverSampler",
    "KMeansSMOTE",
    "RandomOverSampler",
    "SMOTE",
    "SMOTEN",
    "SMOTENC",
    "SVMSMOTE",
]
