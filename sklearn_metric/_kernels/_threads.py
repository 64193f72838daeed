"""Thread control for the parallel Numba kernels.

Two thread pools meet in the kernels: Numba's (``prange``) and the BLAS
library's (GEMM). Running both at full width on the same cores makes them fight,
so parallel kernels that call GEMM inside ``prange`` pin BLAS to one thread.
"""

import threading
from contextlib import contextmanager

import numba
import numpy as np
from joblib import effective_n_jobs
from numba import njit, prange
from threadpoolctl import ThreadpoolController  # a dependency of scikit-learn

# Numba's default "workqueue" threading layer aborts the process when two Python
# threads launch parallel kernels at once, so launches are serialised. Each launch
# already uses every thread it was given, so nothing is lost.
_LAUNCH_LOCK = threading.RLock()
_blas_controller = None


def _get_blas_controller():
    global _blas_controller
    if _blas_controller is None:
        _blas_controller = ThreadpoolController()
    return _blas_controller


def resolve_n_threads(n_jobs):
    """Translate a scikit-learn style ``n_jobs`` into a Numba thread count.

    Parameters
    ----------
    n_jobs : int or None
        ``None`` uses every thread Numba was configured with (all cores unless
        ``NUMBA_NUM_THREADS`` says otherwise), as scikit-learn's OpenMP-based
        neighbour search does. ``-1`` means all of them as well, ``-2`` all but
        one, and a positive integer that many (capped at the configured count).

    Returns
    -------
    n_threads : int
        A count between 1 and ``numba.config.NUMBA_NUM_THREADS``.
    """
    max_threads = numba.config.NUMBA_NUM_THREADS
    if n_jobs is None:
        return max_threads
    if n_jobs == 0:
        raise ValueError("n_jobs == 0 has no meaning; use None, -1 or a positive int.")
    if n_jobs < 0:
        return max(1, min(max_threads, effective_n_jobs(n_jobs)))
    return int(min(n_jobs, max_threads))


#: Kernel calls of fewer floating-point operations than this run on one thread:
#: waking threads (and, for OpenMP, their spin-waiting afterwards) costs more
#: than such a call, and far more on a machine that is already busy.
MIN_PARALLEL_WORK = 2**23


def threads_for_work(n_operations, n_jobs):
    """Numba threads for a kernel call of ``n_operations``: one when it is small.

    Parameters
    ----------
    n_operations : int
        Rough count of floating-point operations of the call.
    n_jobs : int or None
        The caller's ``n_jobs``, an upper bound (see :func:`resolve_n_threads`).

    Returns
    -------
    n_threads : int
        1 below :data:`MIN_PARALLEL_WORK`, else ``resolve_n_threads(n_jobs)``.
    """
    if n_operations < MIN_PARALLEL_WORK:
        if n_jobs == 0:
            resolve_n_threads(n_jobs)  # the same error as for large calls
        return 1
    return resolve_n_threads(n_jobs)


@contextmanager
def single_threaded_blas():
    """Pin the BLAS libraries to one thread for the duration of the block.

    For code whose matrix products are too small for BLAS threads to pay, or
    that calls BLAS from inside ``prange``.
    """
    with _get_blas_controller().limit(limits=1, user_api="blas"):
        yield


@contextmanager
def parallel_section(n_threads, *, limit_blas=False):
    """Run parallel kernels with ``n_threads`` Numba threads.

    The previous thread count is restored afterwards. With ``limit_blas=True``
    BLAS is pinned to one thread for the duration, for kernels that call GEMM
    from inside ``prange``: each of their products is one small tile, for which
    BLAS threads cost more than they bring, even with a single Numba thread.

    Parameters
    ----------
    n_threads : int
        Number of Numba threads, as returned by :func:`resolve_n_threads`.
    limit_blas : bool, default=False
        Whether to pin the BLAS libraries to a single thread.
    """
    with _LAUNCH_LOCK:
        previous = numba.get_num_threads()
        numba.set_num_threads(n_threads)
        try:
            if limit_blas:
                with single_threaded_blas():
                    yield
            else:
                yield
        finally:
            numba.set_num_threads(previous)


@njit(parallel=True, cache=True)
def _parallel_sum(x):
    total = 0.0
    for i in prange(x.shape[0]):
        total += x[i]
    return total


def warm_up_threading_layer(x=None):
    """Run a trivial parallel kernel so that Numba selects its threading layer.

    Parameters
    ----------
    x : ndarray of shape (n,), default=None
        Values to add up; two zeros when omitted.

    Returns
    -------
    total : float
        The sum, computed in parallel.
    """
    if x is None:
        x = np.zeros(2)
    with _LAUNCH_LOCK:
        return _parallel_sum(np.ascontiguousarray(x, dtype=np.float64))
