"""Numba kernels of the neighbour estimators: the HNSW graph and the adaptive kNN."""
