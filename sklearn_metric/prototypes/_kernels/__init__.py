"""Numba kernels of the prototype classifiers, one module per model family."""
