"""Private Numba kernels shared by every family of estimators.

The public entry points are in :mod:`sklearn_metric.distances`; the functions
here assume validated, C-contiguous float32 or float64 arrays.
"""
