"""Generate pair, chunk and triplet constraints from class labels.

Supervised front-ends of weakly supervised learners (``ITML_Supervised`` and
the like) turn labels into the tuples their solvers need:

* :meth:`Constraints.positive_negative_pairs` draws same-class and
  different-class pairs, and :func:`wrap_pairs` stacks them with +1 / -1
  labels;
* :meth:`Constraints.chunks` groups points of one class into chunklets;
* :func:`generate_knntriplets` pairs each point with its nearest same-class
  neighbours and nearest other-class neighbours.

Every output is made of row indices into the data, never of copies of rows.
"""

import warnings
from numbers import Integral

import numpy as np
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, validate_params
from sklearn.utils.random import sample_without_replacement
from sklearn.utils.validation import check_array, check_consistent_length, column_or_1d

from ..distances import knn_search

__all__ = ["Constraints", "generate_knntriplets", "wrap_pairs"]


class Constraints:
    """Build constraints from labels, some of which may be unknown.

    Parameters
    ----------
    partial_labels : array-like of shape (n_samples,)
        Integer class labels; a negative label (conventionally -1) marks a
        point whose class is unknown, which never enters a constraint.

    Attributes
    ----------
    partial_labels : ndarray of shape (n_samples,)
        The labels as integers.

    Examples
    --------
    >>> from sklearn_metric.metric_learning import Constraints
    >>> constraints = Constraints([0, 0, 0, 1, 1, -1])
    >>> a, b, c, d = constraints.positive_negative_pairs(4, random_state=0)
    >>> sorted(zip(a.tolist(), b.tolist()))
    [(0, 1), (0, 2), (1, 2), (3, 4)]
    >>> constraints.chunks(n_chunks=2, chunk_size=2, random_state=0).shape
    (6,)
    """

    def __init__(self, partial_labels):
        labels = column_or_1d(partial_labels)
        if (
            labels.dtype.kind == "f"
            and np.all(np.isfinite(labels))
            and np.all(labels == np.round(labels))
        ):
            labels = labels.astype(np.int64)
        if labels.dtype.kind not in "iu":
            raise TypeError(
                "partial_labels must be integers, with -1 for unknown labels; got "
                f"dtype {labels.dtype}. Encode other labels first, e.g. with "
                "sklearn.preprocessing.LabelEncoder."
            )
        self.partial_labels = labels.astype(np.int64, copy=False)

    def _known_classes(self):
        """Known points grouped by class.

        Returns
        -------
        members : ndarray of shape (n_known,)
            Indices of labelled points, sorted by class, then by index.
        starts, counts : ndarray of shape (n_classes,)
            Where each class begins in ``members`` and how many points it has.
        """
        known = np.flatnonzero(self.partial_labels >= 0)
        _, encoded = np.unique(self.partial_labels[known], return_inverse=True)
        members = known[np.argsort(encoded, kind="stable")]
        counts = np.bincount(encoded.ravel()).astype(np.int64)
        starts = np.concatenate(([0], np.cumsum(counts)[:-1])).astype(np.int64)
        return members, starts, counts

    def positive_negative_pairs(
        self, n_constraints, same_length=False, random_state=None
    ):
        """Draw random same-class (positive) and different-class (negative) pairs.

        Each kind is drawn uniformly without replacement among all unordered
        pairs of distinct labelled points, so no pair appears twice.

        Parameters
        ----------
        n_constraints : int
            Number of pairs of each kind.
        same_length : bool, default=False
            Cut the longer of the two lists so both have the same length (they
            differ only when fewer than ``n_constraints`` pairs of one kind
            exist).
        random_state : int, RandomState instance or None, default=None
            Seed or generator for the draws.

        Returns
        -------
        a, b : ndarray of shape (n_positive,)
            Indices of the two points of each positive pair.
        c, d : ndarray of shape (n_negative,)
            Indices of the two points of each negative pair.

        Raises
        ------
        ValueError
            If no class has two labelled points (no positive pair exists) or
            fewer than two classes are present (no negative pair exists).

        Warns
        -----
        UserWarning
            When fewer than ``n_constraints`` pairs of a kind exist; all of
            them are returned.
        """
        n_constraints = _check_positive_int(n_constraints, "n_constraints")
        random_state = check_random_state(random_state)
        members, starts, counts = self._known_classes()
        if not np.any(counts >= 2):
            raise ValueError(
                "No positive pair can be formed: no class has two labelled points "
                f"(class sizes {counts.tolist()})."
            )
        if counts.shape[0] < 2:
            raise ValueError(
                "No negative pair can be formed: the labelled points all belong to "
                "one class."
            )
        a, b = _draw_positive_pairs(
            members, starts, counts, n_constraints, random_state
        )
        c, d = _draw_negative_pairs(
            members, starts, counts, n_constraints, random_state
        )
        if same_length and a.shape[0] != c.shape[0]:
            n = min(a.shape[0], c.shape[0])
            a, b, c, d = a[:n], b[:n], c[:n], d[:n]
        return a, b, c, d

    def chunks(self, n_chunks=100, chunk_size=2, random_state=None):
        """Group labelled points into chunklets of one class each.

        Chunks are spread over the classes at random in proportion to how many
        chunks each class could hold, and their members are drawn at random.
        A point belongs to at most one chunk.

        Parameters
        ----------
        n_chunks : int, default=100
            Number of chunks.
        chunk_size : int, default=2
            Number of points per chunk.
        random_state : int, RandomState instance or None, default=None
            Seed or generator for the draws.

        Returns
        -------
        chunks : ndarray of shape (n_samples,)
            The chunk (0 to ``n_chunks - 1``) of each point, -1 for points in
            no chunk.

        Raises
        ------
        ValueError
            If the classes cannot hold ``n_chunks`` chunks of ``chunk_size``
            points.
        """
        n_chunks = _check_positive_int(n_chunks, "n_chunks")
        chunk_size = _check_positive_int(chunk_size, "chunk_size")
        random_state = check_random_state(random_state)
        members, starts, counts = self._known_classes()
        capacity = counts // chunk_size
        max_chunks = int(capacity.sum())
        if max_chunks < n_chunks:
            raise ValueError(
                f"Cannot form {n_chunks} chunks of {chunk_size} points of one class: "
                f"the labelled classes (sizes {counts.tolist()}) hold at most "
                f"{max_chunks}. Lower n_chunks or chunk_size."
            )
        # Each class offers `capacity` chunk slots; picking slots uniformly gives
        # every class its share of chunks without a per-chunk loop.
        slots = sample_without_replacement(
            max_chunks, n_chunks, random_state=random_state
        )
        slot_class = np.searchsorted(np.cumsum(capacity), slots, side="right")
        chunks_per_class = np.bincount(slot_class, minlength=counts.shape[0])

        # Shuffle the points within each class (members is grouped by class, so
        # sorting on (class, random key) keeps the groups), then cut every
        # class's shuffled points into its chunks.
        member_class = np.repeat(np.arange(counts.shape[0]), counts)
        shuffled = members[
            np.lexsort((random_state.random_sample(members.shape[0]), member_class))
        ]
        rank = np.arange(members.shape[0]) - np.repeat(starts, counts)
        first_chunk = np.cumsum(chunks_per_class) - chunks_per_class
        in_chunk = rank < chunk_size * chunks_per_class[member_class]

        chunks = np.full(self.partial_labels.shape[0], -1, dtype=np.intp)
        chunks[shuffled[in_chunk]] = (first_chunk[member_class] + rank // chunk_size)[
            in_chunk
        ]
        return chunks

    def generate_knntriplets(self, X, k_genuine, k_impostor):
        """Generate triplets of labelled points with near same- and other-class points.

        Unlabelled points are left out. See :func:`generate_knntriplets`.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The points, one per label.
        k_genuine : int
            Nearest same-class neighbours per point.
        k_impostor : int
            Nearest other-class neighbours per point.

        Returns
        -------
        triplets : ndarray of shape (n_triplets, 3)
            ``(anchor, genuine, impostor)`` indices into ``X``.
        """
        X = check_array(X, dtype=[np.float64, np.float32])
        check_consistent_length(X, self.partial_labels)
        known = np.flatnonzero(self.partial_labels >= 0)
        triplets = generate_knntriplets(
            X[known], self.partial_labels[known], k_genuine, k_impostor
        )
        return known[triplets]


def _check_positive_int(value, name):
    if isinstance(value, bool) or not isinstance(value, Integral) or value < 1:
        raise ValueError(f"{name} must be an integer >= 1; got {value!r}.")
    return int(value)


def _draw(population, size, random_state, kind):
    """Draw ``size`` distinct linear pair ids out of ``population``, in random order."""
    if population < size:
        warnings.warn(
            f"Only {population} {kind} pairs exist; returning all of them instead "
            f"of the {size} requested.",
            UserWarning,
            stacklevel=4,
        )
        size = population
    ids = sample_without_replacement(population, size, random_state=random_state)
    # Some sampling methods return ids in increasing order.
    return ids[random_state.permutation(size)].astype(np.int64)


def _draw_positive_pairs(members, starts, counts, n_pairs, random_state):
    pairs_per_class = counts * (counts - 1) // 2
    class_end = np.cumsum(pairs_per_class)
    ids = _draw(int(class_end[-1]), n_pairs, random_state, "positive")
    cls = np.searchsorted(class_end, ids, side="right")
    offset = ids - (class_end[cls] - pairs_per_class[cls])
    # Decode the offset into the (i, j), i < j, pair number offset in the order
    # (0,1), (0,2), (1,2), (0,3), ...: j is the largest with j(j-1)/2 <= offset.
    j = np.floor((1 + np.sqrt(1 + 8 * offset.astype(np.float64))) / 2).astype(np.int64)
    j -= j * (j - 1) // 2 > offset
    j += (j + 1) * j // 2 <= offset
    i = offset - j * (j - 1) // 2
    return members[starts[cls] + i], members[starts[cls] + j]


def _draw_negative_pairs(members, starts, counts, n_pairs, random_state):
    first, second = np.triu_indices(counts.shape[0], k=1)
    pairs_per_couple = counts[first] * counts[second]
    couple_end = np.cumsum(pairs_per_couple)
    ids = _draw(int(couple_end[-1]), n_pairs, random_state, "negative")
    couple = np.searchsorted(couple_end, ids, side="right")
    offset = ids - (couple_end[couple] - pairs_per_couple[couple])
    i, j = np.divmod(offset, counts[second[couple]])
    return (
        members[starts[first[couple]] + i],
        members[starts[second[couple]] + j],
    )


@validate_params(
    {
        "X": ["array-like"],
        "y": ["array-like"],
        "k_genuine": [Interval(Integral, 1, None, closed="left")],
        "k_impostor": [Interval(Integral, 1, None, closed="left")],
        "n_jobs": [Integral, None],
    },
    prefer_skip_nested_validation=True,
)
def generate_knntriplets(X, y, k_genuine, k_impostor, *, n_jobs=None):
    """Generate triplets of each point with near same- and other-class points.

    For every point ``a``, take its ``k_genuine`` nearest neighbours of the same
    class and its ``k_impostor`` nearest neighbours of other classes (Euclidean
    distance, ties broken by index), and form every triplet
    ``(a, genuine, impostor)``.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        The points.
    y : array-like of shape (n_samples,)
        Their class labels.
    k_genuine : int
        Nearest same-class neighbours per point. A class with too few points
        uses all its other points instead, with a warning; a class of one point
        yields no triplets.
    k_impostor : int
        Nearest other-class neighbours per point, reduced likewise.
    n_jobs : int, default=None
        Threads for the neighbour search, as in
        :func:`sklearn_metric.distances.knn_search`.

    Returns
    -------
    triplets : ndarray of shape (n_triplets, 3)
        ``(anchor, genuine, impostor)`` row indices, ordered by anchor, then by
        genuine neighbour rank, then by impostor rank. With enough points in
        every class, ``n_triplets = n_samples * k_genuine * k_impostor``.

    Raises
    ------
    ValueError
        If ``y`` has a single class (no impostors exist).

    Examples
    --------
    >>> from sklearn_metric.metric_learning import generate_knntriplets
    >>> X = [[0.0], [1.0], [10.0], [12.0]]
    >>> generate_knntriplets(X, [0, 0, 1, 1], k_genuine=1, k_impostor=1)
    array([[0, 1, 2],
           [1, 0, 2],
           [2, 3, 1],
           [3, 2, 1]])
    """
    X = check_array(X, dtype=[np.float64, np.float32])
    y = column_or_1d(y)
    check_consistent_length(X, y)
    classes, encoded = np.unique(y, return_inverse=True)
    if classes.shape[0] < 2:
        raise ValueError(
            "generate_knntriplets needs at least two classes, since impostors come "
            f"from other classes; got only {classes.tolist()}."
        )
    n_samples = X.shape[0]
    blocks, shortfalls = [], []
    for label_index, label in enumerate(classes):
        same = np.flatnonzero(encoded == label_index)
        other = np.flatnonzero(encoded != label_index)
        n_genuine = min(k_genuine, same.shape[0] - 1)
        n_impostor = min(k_impostor, n_samples - same.shape[0])
        if n_genuine < k_genuine or n_impostor < k_impostor:
            shortfalls.append(f"{label} ({n_genuine}, {n_impostor})")
        if n_genuine == 0:
            continue
        _, genuine = knn_search(
            X[same], X[same], n_genuine, exclude_self=True, n_jobs=n_jobs
        )
        _, impostor = knn_search(X[same], X[other], n_impostor, n_jobs=n_jobs)
        shape = (same.shape[0], n_genuine, n_impostor)
        blocks.append(
            np.stack(
                [
                    np.broadcast_to(same[:, None, None], shape),
                    np.broadcast_to(same[genuine][:, :, None], shape),
                    np.broadcast_to(other[impostor][:, None, :], shape),
                ],
                axis=-1,
            ).reshape(-1, 3)
        )
    if shortfalls:
        warnings.warn(
            f"Some classes are too small for k_genuine={k_genuine} same-class and "
            f"k_impostor={k_impostor} other-class neighbours; they use (genuine, "
            f"impostor) = {', '.join(shortfalls)} instead.",
            UserWarning,
            # One frame for the function, one for validate_params's wrapper.
            stacklevel=3,
        )
    if not blocks:
        return np.empty((0, 3), dtype=np.intp)
    triplets = np.concatenate(blocks)
    return triplets[np.argsort(triplets[:, 0], kind="stable")]


def _as_indices(side):
    side = column_or_1d(side)
    if side.size == 0:
        return side.astype(np.intp)
    if side.dtype.kind not in "iu":
        raise TypeError(f"Constraint indices must be integers; got dtype {side.dtype}.")
    return side.astype(np.intp, copy=False)


def wrap_pairs(X, constraints, *, materialize=False):
    """Stack positive and negative pairs into one labelled pair set.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features) or None
        The data the indices refer to. Used to check the indices and, with
        ``materialize=True``, to look up the points; may be ``None`` otherwise.
    constraints : tuple of four array-like of shape (n_positive,) or (n_negative,)
        ``(a, b, c, d)`` as returned by
        :meth:`Constraints.positive_negative_pairs`.
    materialize : bool, default=False
        Return the points of every pair, a ``(n_pairs, 2, n_features)`` array,
        instead of their indices. The indices, used with ``preprocessor=X``,
        take ``n_features`` times less memory (two integers per pair instead
        of two rows of float64 values).

    Returns
    -------
    pairs : ndarray of shape (n_pairs, 2) or (n_pairs, 2, n_features)
        Positive pairs first, then negative ones.
    y : ndarray of shape (n_pairs,)
        +1 for positive pairs, -1 for negative ones.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_metric.metric_learning import wrap_pairs
    >>> pairs, y = wrap_pairs(None, ([0, 1], [2, 3], [0], [4]))
    >>> pairs
    array([[0, 2],
           [1, 3],
           [0, 4]])
    >>> y
    array([ 1,  1, -1])
    """
    if len(constraints) != 4:
        raise ValueError(
            "constraints must be the four index arrays (a, b, c, d) of "
            f"positive_negative_pairs; got {len(constraints)} arrays."
        )
    a, b, c, d = (_as_indices(side) for side in constraints)
    check_consistent_length(a, b)
    check_consistent_length(c, d)
    pairs = np.concatenate([np.column_stack((a, b)), np.column_stack((c, d))])
    pairs = pairs.reshape(-1, 2)
    y = np.concatenate(
        [np.ones(a.shape[0], dtype=np.int64), -np.ones(c.shape[0], dtype=np.int64)]
    )
    if X is None:
        if materialize:
            raise ValueError("materialize=True needs the data X.")
        return pairs, y
    X = check_array(X, dtype=[np.float64, np.float32])
    if pairs.size and (pairs.min() < 0 or pairs.max() >= X.shape[0]):
        raise ValueError(
            f"Pair indices must lie in [0, {X.shape[0] - 1}] for X with "
            f"{X.shape[0]} rows; got values from {pairs.min()} to {pairs.max()}."
        )
    return (X[pairs] if materialize else pairs), y
