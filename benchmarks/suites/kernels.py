"""Distance kernels: pairwise distances and exact k-nearest-neighbour search.

``sklearn_metric.distances.pairwise_distances`` is compared with
``sklearn.metrics.pairwise_distances`` and ``scipy.spatial.distance.cdist``
(quality: largest relative difference of ours to ``cdist`` in float64), and
``sklearn_metric.distances.knn_search`` with a brute-force
``sklearn.neighbors.NearestNeighbors`` (quality: fraction of queries whose
neighbour lists are identical).  Euclidean cases also report GFLOP/s, to be
read against the GEMM peak measured at the start of the run.
"""

from dataclasses import dataclass
from functools import partial

import numpy as np
from scipy.spatial.distance import cdist
from sklearn.metrics import pairwise_distances as sklearn_pairwise_distances
from sklearn.neighbors import NearestNeighbors

from .._harness import Case, Quality, best_time, max_relative_difference

METRICS = ("euclidean", "manhattan", "cosine")
# scipy spells manhattan "cityblock".
_SCIPY_METRIC = {"euclidean": "euclidean", "manhattan": "cityblock", "cosine": "cosine"}
DTYPES = (np.float64, np.float32)
SEED = 0
GEMM_REPEATS = 10
# Relative gap between the exact (float64) distances of two neighbour lists
# below which a disagreement is put down to a (near-)tie rather than an error:
# about a hundred roundings of the dtype, what a float32 GEMM expansion loses.
_TIE_RTOL = {np.dtype(np.float32): 1e-5, np.dtype(np.float64): 1e-12}


@dataclass(frozen=True)
class Sizes:
    """Problem sizes of one run of the suite.

    Parameters
    ----------
    pairwise : tuple of (n_x, n_y, n_features)
        Shapes of the pairwise-distance cases; each runs for every metric
        and dtype.
    knn : tuple of (n_queries, n_index, n_features, dtype)
        Shapes of the k-nearest-neighbour cases.
    n_neighbors : int
        Neighbours per query.
    gemm : int
        Side of the square matrices of the GEMM peak measurement.
    """

    pairwise: tuple
    knn: tuple
    n_neighbors: int
    gemm: int


#: Sizes by value of ``quick``; the first knn case is the acceptance case.
SIZES = {
    False: Sizes(
        pairwise=((2_000, 5_000, 64), (1_000, 2_000, 512)),
        knn=((5_000, 50_000, 64, np.float32), (5_000, 50_000, 64, np.float64)),
        n_neighbors=10,
        gemm=2_000,
    ),
    True: Sizes(
        pairwise=((1_000, 2_000, 64), (300, 600, 512)),
        knn=((2_000, 20_000, 64, np.float32), (2_000, 20_000, 64, np.float64)),
        n_neighbors=10,
        gemm=1_000,
    ),
}


def _gaussian(n_rows, n_features, dtype, seed):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n_rows, n_features), dtype=dtype)


def gemm_gflops(n, dtype, repeats=GEMM_REPEATS):
    """GFLOP/s of one ``n x n`` numpy matrix product, best of ``repeats``.

    Parameters
    ----------
    n : int
        Side of the square matrices.
    dtype : dtype
        ``float32`` or ``float64``.
    repeats : int, default=GEMM_REPEATS
        Timed products after one warm-up product.

    Returns
    -------
    float
    """
    a, b = _gaussian(n, n, dtype, SEED), _gaussian(n, n, dtype, SEED + 1)
    timing = best_time(partial(np.matmul, a, b), repeats)
    return 2 * n**3 / timing.best / 1e9


def context(quick):
    """Header lines: where ``ours`` comes from and the measured GEMM peak.

    Parameters
    ----------
    quick : bool
        Use the quick sizes.

    Returns
    -------
    list of str
    """
    n = SIZES[quick].gemm
    peaks = ", ".join(
        f"{np.dtype(dtype).name} {gemm_gflops(n, dtype):.1f} GFLOP/s"
        for dtype in (np.float32, np.float64)
    )
    return [
        f"GEMM peak (numpy matmul {n}x{n}, best of {GEMM_REPEATS}): {peaks}",
        "GFLOP/s of euclidean cases = 2 * n_rows_X * n_rows_Y * n_features / time "
        "(the nominal GEMM work)",
    ]


def _pairwise_quality(anchor_result, ours_result, *, reference):
    anchor_error = max_relative_difference(anchor_result, reference)
    return Quality(
        "max rel diff vs cdist",
        max_relative_difference(ours_result, reference),
        note=f"anchor's max rel diff vs cdist {anchor_error:.1e}",
        fmt=".1e",
    )


def _pairwise_cases(n_x, n_y, n_features, dtype, ours):
    X = _gaussian(n_x, n_features, dtype, SEED)
    Y = _gaussian(n_y, n_features, dtype, SEED + 1)
    X64, Y64 = X.astype(np.float64), Y.astype(np.float64)
    for metric in METRICS:
        scipy_metric = _SCIPY_METRIC[metric]
        reference = cdist(X64, Y64, metric=scipy_metric)
        name = f"pairwise {metric} {np.dtype(dtype).name} {n_x}x{n_y}x{n_features}"
        common = {
            "ours": partial(ours, X, Y, metric=metric),
            "quality": partial(_pairwise_quality, reference=reference),
            "flops": 2.0 * n_x * n_y * n_features if metric == "euclidean" else None,
        }
        yield Case(
            name,
            "sklearn pairwise_distances",
            anchor=partial(sklearn_pairwise_distances, X, Y, metric=metric),
            **common,
        )
        yield Case(
            name,
            "scipy cdist",
            anchor=partial(cdist, X, Y, metric=scipy_metric),
            notes="cdist computes in float64" if dtype == np.float32 else "",
            **common,
        )


def _exact_distances(query, X_index, indices):
    differences = X_index[indices].astype(np.float64) - query.astype(np.float64)
    return np.sort(np.sqrt(np.einsum("ij,ij->i", differences, differences)))


def _classify_disagreement(query, X_index, anchor_indices, our_indices, rtol):
    """Say why two neighbour lists differ: ``"tie"``, ``"ours"`` or ``"anchor"``.

    ``"tie"`` means both lists have the same exact distances (within ``rtol``);
    otherwise the side whose exact distances sum lower is the better one.
    """
    anchor = _exact_distances(query, X_index, anchor_indices)
    ours = _exact_distances(query, X_index, our_indices)
    distinct = np.unique(our_indices).size == our_indices.size
    if distinct and np.allclose(anchor, ours, rtol=rtol, atol=0.0):
        return "tie"
    return "ours" if ours.sum() < anchor.sum() else "anchor"


def knn_quality(anchor_result, ours_result, *, X_query, X_index):
    """Fraction of queries whose neighbour index lists agree exactly.

    Disagreements are classified from exact float64 distances: (near-)ties,
    where either answer is right, and otherwise whichever side found the
    closer neighbours.

    Parameters
    ----------
    anchor_result, ours_result : tuple of (distances, indices)
        Results of the anchor and of ``knn_search``.
    X_query, X_index : ndarray
        The inputs of the search.

    Returns
    -------
    Quality
    """
    anchor_distances, anchor_indices = anchor_result
    our_distances, our_indices = ours_result
    agree = np.all(anchor_indices == our_indices, axis=1)
    distance_error = max_relative_difference(our_distances, anchor_distances)
    notes = [f"max rel diff of distances vs anchor {distance_error:.1e}"]
    disagreeing = np.flatnonzero(~agree)
    if disagreeing.size:
        rtol = _TIE_RTOL[X_index.dtype]
        verdicts = [
            _classify_disagreement(
                X_query[q], X_index, anchor_indices[q], our_indices[q], rtol
            )
            for q in disagreeing
        ]
        notes.append(
            f"{disagreeing.size} of {agree.size} queries differ: "
            f"{verdicts.count('tie')} only by near-ties (rtol {rtol:.0e}), "
            f"{verdicts.count('ours')} with closer neighbours in ours, "
            f"{verdicts.count('anchor')} in the anchor"
        )
    return Quality("agreement", float(agree.mean()), note="; ".join(notes), fmt=".4f")


def sklearn_knn(X_query, X_index, n_neighbors):
    """The anchor search: brute-force ``NearestNeighbors``, fit included.

    Parameters
    ----------
    X_query, X_index : ndarray
        Queries and rows to search.
    n_neighbors : int
        Neighbours per query.

    Returns
    -------
    distances, indices : ndarray
    """
    search = NearestNeighbors(n_neighbors=n_neighbors, algorithm="brute")
    return search.fit(X_index).kneighbors(X_query)


def _knn_case(n_query, n_index, n_features, dtype, n_neighbors, ours):
    X_query = _gaussian(n_query, n_features, dtype, SEED)
    X_index = _gaussian(n_index, n_features, dtype, SEED + 1)
    return Case(
        f"knn k={n_neighbors} {np.dtype(dtype).name} {n_query}x{n_index}x{n_features}",
        "sklearn NearestNeighbors(brute)",
        anchor=partial(sklearn_knn, X_query, X_index, n_neighbors),
        ours=partial(ours, X_query, X_index, n_neighbors),
        quality=partial(knn_quality, X_query=X_query, X_index=X_index),
        flops=2.0 * n_query * n_index * n_features,
    )


def cases(quick):
    """Yield the suite's cases, building each one's data only when it is reached.

    Parameters
    ----------
    quick : bool
        Use the quick sizes.

    Yields
    ------
    Case
    """
    from sklearn_metric.distances import knn_search, pairwise_distances

    sizes = SIZES[quick]
    for n_query, n_index, n_features, dtype in sizes.knn:
        yield _knn_case(
            n_query, n_index, n_features, dtype, sizes.n_neighbors, knn_search
        )
    for n_x, n_y, n_features in sizes.pairwise:
        for dtype in DTYPES:
            yield from _pairwise_cases(n_x, n_y, n_features, dtype, pairwise_distances)
