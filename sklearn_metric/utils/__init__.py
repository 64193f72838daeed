"""Utilities: the estimator registry and shared helpers."""
