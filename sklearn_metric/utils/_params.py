"""Helpers for estimator constructors."""

__all__ = ["store_params"]


def store_params(estimator, params):
    """Store ``__init__``'s arguments as attributes, unchanged.

    scikit-learn's :class:`~sklearn.base.BaseEstimator` reads the parameters
    back by the names of ``__init__``'s arguments, so a constructor must store
    each one under its own name and do nothing else. Passing ``locals()``
    keeps long argument lists from being written out twice.

    Parameters
    ----------
    estimator : estimator instance
        The estimator being constructed.
    params : dict
        ``locals()`` of its ``__init__``; ``self`` and ``__class__`` are
        skipped.
    """
    for name, value in params.items():
        if name not in ("self", "__class__"):
            setattr(estimator, name, value)
