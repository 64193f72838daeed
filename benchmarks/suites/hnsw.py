"""HNSW index: sklearn_metric's HNSWIndex against hnswlib, faiss and usearch.

All single-threaded, on the issue's problem: 50,000 x 64 float32 rows of low
intrinsic dimension (a 12-dimensional Gaussian mapped linearly to 64
dimensions, plus noise of standard deviation 0.1), 5,000 queries from the same
law, k=10, M=16, ef_construction=200, ef=50. The build rows time
``fit``/``add_items``/``add``; the query rows time one batch of 5,000 queries
on indexes built beforehand. Quality is recall@10 against the exact
neighbours of :func:`sklearn_metric.distances.knn_search`. hnswlib is the
anchor the issue sets lines against; faiss-cpu's ``IndexHNSWFlat`` and usearch
are extra rows that no line applies to. A library that is not installed is
reported as skipped.

The header also gives the cold start of our index: a fresh process with an
empty Numba cache, importing the package and building and querying a small
index, against the same process started again on the filled cache.
"""

import os
import subprocess
import sys
import tempfile
from functools import partial

import numpy as np

from sklearn_metric.distances import knn_search
from sklearn_metric.neighbors import HNSWIndex

from .._harness import Case, Quality

M = 16
EF_CONSTRUCTION = 200
EF = 50
K = 10
SEED = 0


def make_data(n_index, n_queries, n_features=64, intrinsic=12, noise=0.1, seed=SEED):
    """Rows of low intrinsic dimension: a Gaussian mapped linearly, plus noise.

    Parameters
    ----------
    n_index, n_queries : int
        Rows to index and query rows.
    n_features : int, default=64
        Ambient dimension.
    intrinsic : int, default=12
        Dimension of the Gaussian.
    noise : float, default=0.1
        Standard deviation of the isotropic noise added in the ambient space.
    seed : int, default=0
        Seed of the generator.

    Returns
    -------
    X, Q : ndarray of float32
        Indexed rows and queries.
    """
    rng = np.random.default_rng(seed)
    Z = rng.normal(size=(n_index + n_queries, intrinsic))
    A = rng.normal(size=(intrinsic, n_features))
    rows = Z @ A + noise * rng.normal(size=(n_index + n_queries, n_features))
    rows = rows.astype(np.float32)
    return rows[:n_index], rows[n_index:]


def recall(found, exact):
    """Share of the exact neighbours found, over all queries.

    Parameters
    ----------
    found, exact : ndarray of shape (n_queries, k)
        Neighbour indices.

    Returns
    -------
    float
    """
    found = np.asarray(found, dtype=np.int64)
    hits = sum(np.intersect1d(a, b).size for a, b in zip(found, exact))
    return hits / exact.size


# -- the four libraries, each as build(X) and query(index, Q) --------------------


def _ours_build(X):
    return HNSWIndex(
        M=M, ef_construction=EF_CONSTRUCTION, ef=EF, random_state=SEED, n_jobs=1
    ).fit(X)


def _ours_query(index, Q):
    return index.query(Q, K)[1]


def _hnswlib_build(X):
    import hnswlib

    index = hnswlib.Index(space="l2", dim=X.shape[1])
    index.init_index(
        max_elements=X.shape[0], M=M, ef_construction=EF_CONSTRUCTION, random_seed=SEED
    )
    index.set_num_threads(1)
    index.add_items(X, num_threads=1)
    index.set_ef(EF)
    return index


def _hnswlib_query(index, Q):
    return index.knn_query(Q, k=K, num_threads=1)[0]


def _faiss_build(X):
    import faiss

    faiss.omp_set_num_threads(1)
    index = faiss.IndexHNSWFlat(X.shape[1], M)
    index.hnsw.efConstruction = EF_CONSTRUCTION
    index.add(X)
    index.hnsw.efSearch = EF
    return index


def _faiss_query(index, Q):
    import faiss

    faiss.omp_set_num_threads(1)
    return index.search(Q, K)[1]


def _usearch_build(X):
    from usearch.index import Index

    index = Index(
        ndim=X.shape[1],
        metric="l2sq",
        dtype="f32",
        connectivity=M,
        expansion_add=EF_CONSTRUCTION,
        expansion_search=EF,
    )
    index.add(np.arange(X.shape[0]), X, threads=1)
    return index


def _usearch_query(index, Q):
    return index.search(Q, K, threads=1).keys


LIBRARIES = {
    "hnswlib": (_hnswlib_build, _hnswlib_query, "hnswlib"),
    "faiss-cpu IndexHNSWFlat": (_faiss_build, _faiss_query, "faiss"),
    "usearch": (_usearch_build, _usearch_query, "usearch"),
}


def _installed(module):
    try:
        __import__(module)
    except ImportError:
        return False
    return True


def _build_quality(Q, exact, anchor_query, anchor_index, our_index):
    ours = recall(_ours_query(our_index, Q), exact)
    theirs = recall(anchor_query(anchor_index, Q), exact)
    return Quality(
        "recall@10 (ours)", ours, note=f"anchor recall@10 {theirs:.4f}", fmt=".4f"
    )


def _query_quality(exact, anchor_found, our_found):
    return Quality(
        "recall@10 (ours)",
        recall(our_found, exact),
        note=f"anchor recall@10 {recall(anchor_found, exact):.4f}",
        fmt=".4f",
    )


# -- cold start ----------------------------------------------------------------

_COLD_SCRIPT = """
import time
start = time.perf_counter()
import numpy as np
from sklearn_metric.neighbors import HNSWIndex
X = np.random.default_rng(0).normal(size=(2000, 64)).astype(np.float32)
HNSWIndex(random_state=0, n_jobs=1).fit(X).query(X[:100], 10)
print(time.perf_counter() - start)
"""


def cold_start_seconds():
    """Seconds from a fresh process to a first fit and query, cold and warm.

    Returns
    -------
    cold, warm : float
        With an empty Numba cache directory, then with the one the cold run
        filled.
    """
    with tempfile.TemporaryDirectory() as cache_dir:
        env = dict(os.environ, NUMBA_CACHE_DIR=cache_dir)
        times = []
        for _ in range(2):
            out = subprocess.run(
                [sys.executable, "-c", _COLD_SCRIPT],
                env=env,
                check=True,
                capture_output=True,
                text=True,
            )
            times.append(float(out.stdout.strip().splitlines()[-1]))
    return times[0], times[1]


def context(quick):
    """Header lines: the cold start of the index, and the problem.

    Parameters
    ----------
    quick : bool
        Whether the small problem is used.

    Returns
    -------
    list of str
    """
    cold, warm = cold_start_seconds()
    n_index, n_queries = _sizes(quick)
    return [
        f"Problem: {n_index} x 64 float32 indexed rows, {n_queries} queries, "
        f"k={K}, M={M}, ef_construction={EF_CONSTRUCTION}, ef={EF}, one thread.",
        "Cold start of HNSWIndex (fresh process: import, fit 2000 x 64, query 100): "
        f"{cold:.2f} s with an empty Numba cache, {warm:.2f} s with a warm one.",
    ]


def _sizes(quick):
    return (5_000, 500) if quick else (50_000, 5_000)


def cases(quick):
    """Yield a build and a query case per installed library.

    Parameters
    ----------
    quick : bool
        Use 5,000 rows and 500 queries instead of 50,000 and 5,000.

    Yields
    ------
    Case
    """
    n_index, n_queries = _sizes(quick)
    X, Q = make_data(n_index, n_queries)
    exact = knn_search(Q, X, K)[1]
    our_index = _ours_build(X)
    label = f"{n_index}x64 float32"
    for name, (build, query, module) in LIBRARIES.items():
        if not _installed(module):
            continue
        anchor_index = build(X)
        yield Case(
            f"build, {label}",
            name,
            anchor=partial(build, X),
            ours=partial(_ours_build, X),
            quality=lambda a, o, query=query: _build_quality(Q, exact, query, a, o),
            notes="" if name == "hnswlib" else "extra row: no acceptance line",
        )
        yield Case(
            f"query {n_queries} x k={K}, ef={EF}, {label}",
            name,
            anchor=partial(query, anchor_index, Q),
            ours=partial(_ours_query, our_index, Q),
            quality=partial(_query_quality, exact),
            notes="" if name == "hnswlib" else "extra row: no acceptance line",
        )
