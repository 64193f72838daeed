"""Registry of the public estimators of :mod:`sklearn_metric`.

The common tests and the API reference are both generated from
:func:`all_estimators`, so a new estimator is tested and documented as soon as
its subpackage exports it.
"""

import inspect
import pkgutil
from importlib import import_module
from operator import itemgetter
from pathlib import Path

from sklearn.base import (
    BaseEstimator,
    ClassifierMixin,
    ClusterMixin,
    RegressorMixin,
    TransformerMixin,
)

__all__ = ["all_estimators", "all_functions"]

_TYPE_FILTERS = {
    "classifier": lambda cls: issubclass(cls, ClassifierMixin),
    "regressor": lambda cls: issubclass(cls, RegressorMixin),
    "transformer": lambda cls: issubclass(cls, TransformerMixin),
    "cluster": lambda cls: issubclass(cls, ClusterMixin),
    "sampler": lambda cls: hasattr(cls, "fit_resample"),
}


def _public_modules():
    """Import and yield every module of the package outside tests."""
    import sklearn_metric

    root = str(Path(sklearn_metric.__file__).parent)
    yield sklearn_metric
    for info in pkgutil.walk_packages([root], prefix="sklearn_metric."):
        parts = info.name.split(".")
        if "tests" in parts or parts[-1] == "__main__":
            continue
        yield import_module(info.name)


def _is_public(name, obj):
    return not name.startswith("_") and obj.__module__.startswith("sklearn_metric")


def all_estimators(type_filter=None):
    """List every public estimator of ``sklearn_metric``.

    Parameters
    ----------
    type_filter : {"classifier", "regressor", "transformer", "cluster", \
"sampler"} or list of those, default=None
        Keep only estimators of these kinds (a union when several are given).
        ``"sampler"`` means estimators with ``fit_resample``. ``None`` keeps all.

    Returns
    -------
    estimators : list of (str, type)
        ``(name, class)`` pairs sorted by name. Abstract classes, private
        classes (names starting with ``_``) and mixins that are not
        :class:`~sklearn.base.BaseEstimator` subclasses are left out.

    Examples
    --------
    >>> from sklearn_metric.utils.discovery import all_estimators
    >>> [name for name, _ in all_estimators("classifier")]  # doctest: +ELLIPSIS
    [...'KNeighborsClassifier'...]
    """
    found = {}
    for module in _public_modules():
        for name, cls in inspect.getmembers(module, inspect.isclass):
            if (
                _is_public(name, cls)
                and issubclass(cls, BaseEstimator)
                and not inspect.isabstract(cls)
            ):
                found[name] = cls

    estimators = sorted(found.items(), key=itemgetter(0))
    if type_filter is None:
        return estimators
    kinds = [type_filter] if isinstance(type_filter, str) else list(type_filter)
    unknown = [kind for kind in kinds if kind not in _TYPE_FILTERS]
    if unknown:
        raise ValueError(
            f"type_filter must be None or among {sorted(_TYPE_FILTERS)}, or a list "
            f"of those; got {unknown}."
        )
    return [
        (name, cls)
        for name, cls in estimators
        if any(_TYPE_FILTERS[kind](cls) for kind in kinds)
    ]


def all_functions():
    """List the public functions of the public modules of ``sklearn_metric``.

    Returns
    -------
    functions : list of (str, callable)
        ``(qualified module name + "." + name, function)`` pairs, sorted, for
        functions listed in a module's ``__all__``.

    Examples
    --------
    >>> from sklearn_metric.utils.discovery import all_functions
    >>> "sklearn_metric.distances.knn_search" in dict(all_functions())
    True
    """
    found = {}
    for module in _public_modules():
        if any(part.startswith("_") for part in module.__name__.split(".")):
            continue
        for name in getattr(module, "__all__", ()):
            obj = getattr(module, name)
            if inspect.isfunction(obj) and obj.__module__.startswith("sklearn_metric"):
                found[f"{obj.__module__}.{name}"] = obj
    return sorted(found.items(), key=itemgetter(0))
