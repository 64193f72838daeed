"""Numba kernels of the metric learners, one module per solver family.

Every kernel works on validated float32 or float64 arrays and on index arrays
into them (tuples are never materialised). ``_common`` holds the reductions and
the chunk layout that several families share; the plain NumPy twins that serve
as test oracles live in the tests (``tests/metric_learning/_oracles.py``).
"""
