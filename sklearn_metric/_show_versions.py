"""Print the versions of the package, its dependencies and numba's threading layer."""

import importlib.metadata
import platform
import sys

_DEPENDENCIES = (
    "scikit-learn",
    "numpy",
    "scipy",
    "numba",
    "llvmlite",
    "joblib",
    "threadpoolctl",
    "pandas",
    "imbalanced-learn",
)


def _threading_layer():
    """Return numba's threading layer, starting it with a tiny parallel kernel."""
    import numba
    import numpy as np

    from ._kernels._threads import warm_up_threading_layer

    try:
        warm_up_threading_layer(np.zeros(2))
        return numba.threading_layer()
    except Exception as exc:  # noqa: BLE001 -- reported, never raised
        return f"unavailable ({type(exc).__name__}: {exc})"


def _get_deps_info():
    info = {}
    for name in _DEPENDENCIES:
        try:
            info[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            info[name] = None
    return info


def show_versions():
    """Print useful debugging information about the installation.

    Prints the Python version and platform, the versions of
    ``sklearn_metric`` and of its dependencies (optional ones show ``None``
    when absent), and numba's threading layer and thread count.

    Examples
    --------
    >>> import sklearn_metric
    >>> sklearn_metric.show_versions()  # doctest: +SKIP
    """
    import numba

    from . import __version__

    print("\nSystem:")
    print(f"{'python':>16}: {sys.version.splitlines()[0]}")
    print(f"{'executable':>16}: {sys.executable}")
    print(f"{'machine':>16}: {platform.platform()}")

    print("\nPython dependencies:")
    print(f"{'sklearn_metric':>16}: {__version__}")
    for name, version in _get_deps_info().items():
        print(f"{name:>16}: {version}")

    print("\nNumba:")
    print(f"{'threading layer':>16}: {_threading_layer()}")
    print(f"{'num threads':>16}: {numba.get_num_threads()}")
