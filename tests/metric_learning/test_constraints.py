"""Tests of the constraint generators, against brute-force definitions."""

import itertools
import warnings

import numpy as np
import pytest
from numpy.testing import assert_array_equal

from sklearn_metric.metric_learning import (
    Constraints,
    generate_knntriplets,
    wrap_pairs,
)
from sklearn_metric.metric_learning import constraints as constraints_module


@pytest.fixture
def labels():
    # Three classes of sizes 6, 4 and 5, plus three unlabelled points.
    return np.array([0, 1, 2, 0, -1, 1, 2, 0, 0, 2, 1, -1, 0, 2, 1, 0, 2, -1])


def _all_pairs(labels, same):
    known = np.flatnonzero(labels >= 0)
    return {
        (i, j)
        for i, j in itertools.combinations(known, 2)
        if (labels[i] == labels[j]) == same
    }


def _as_unordered(first, second):
    return [tuple(sorted(pair)) for pair in zip(first.tolist(), second.tolist())]


# positive_negative_pairs


def test_pairs_have_the_right_classes(labels):
    a, b, c, d = Constraints(labels).positive_negative_pairs(12, random_state=0)
    assert a.shape == b.shape == c.shape == d.shape == (12,)
    assert np.all(labels[a] == labels[b])
    assert np.all(labels[c] != labels[d])
    for side in (a, b, c, d):
        assert np.all(labels[side] >= 0)
    assert np.all(a != b)
    for first, second in ((a, b), (c, d)):
        unordered = _as_unordered(first, second)
        assert len(set(unordered)) == len(unordered)


def test_pairs_are_reproducible(labels):
    constraints = Constraints(labels)
    first = constraints.positive_negative_pairs(10, random_state=3)
    again = constraints.positive_negative_pairs(10, random_state=3)
    other = constraints.positive_negative_pairs(10, random_state=4)
    for x, y in zip(first, again):
        assert_array_equal(x, y)
    assert any(not np.array_equal(x, y) for x, y in zip(first, other))
    rng = np.random.RandomState(3)
    from_generator = constraints.positive_negative_pairs(10, random_state=rng)
    for x, y in zip(first, from_generator):
        assert_array_equal(x, y)


def test_asking_for_too_many_pairs_returns_all_with_a_warning(labels):
    n_positive = len(_all_pairs(labels, same=True))
    n_negative = len(_all_pairs(labels, same=False))
    assert n_positive < 1000 and n_negative < 1000
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        a, b, c, d = Constraints(labels).positive_negative_pairs(1000, random_state=0)
    assert all(issubclass(w.category, UserWarning) for w in caught)
    assert {str(w.message) for w in caught} == {
        f"Only {n_positive} positive pairs exist; returning all of them instead "
        "of the 1000 requested.",
        f"Only {n_negative} negative pairs exist; returning all of them instead "
        "of the 1000 requested.",
    }
    assert set(_as_unordered(a, b)) == _all_pairs(labels, same=True)
    assert set(_as_unordered(c, d)) == _all_pairs(labels, same=False)
    assert len(a) == n_positive and len(c) == n_negative


def test_same_length_cuts_the_longer_list(labels):
    n_positive = len(_all_pairs(labels, same=True))
    with pytest.warns(UserWarning):
        a, b, c, d = Constraints(labels).positive_negative_pairs(
            100, same_length=True, random_state=0
        )
    assert len(a) == len(b) == len(c) == len(d) == n_positive


def test_pairs_are_drawn_uniformly():
    # Three same-class pairs exist; drawing one 3000 times should hit each
    # about 1000 times (a decoding or sampling bias would show here).
    labels = np.array([0, 0, 0, 1])
    counts = {}
    for seed in range(3000):
        a, b, _, _ = Constraints(labels).positive_negative_pairs(1, random_state=seed)
        key = tuple(sorted((int(a[0]), int(b[0]))))
        counts[key] = counts.get(key, 0) + 1
    assert set(counts) == {(0, 1), (0, 2), (1, 2)}
    assert all(850 < n < 1150 for n in counts.values())


def test_pairs_scale_to_large_label_sets():
    # About 5e9 candidate pairs: nothing may be enumerated.
    labels = np.arange(100_000) % 2
    a, b, c, d = Constraints(labels).positive_negative_pairs(5000, random_state=0)
    assert np.all(labels[a] == labels[b]) and np.all(a != b)
    assert np.all(labels[c] != labels[d])
    assert len(set(_as_unordered(a, b))) == 5000


@pytest.mark.parametrize(
    "labels, match",
    [
        ([0, 1, 2, 3], "no class has two labelled points"),
        ([0, 1, -1, -1], "no class has two labelled points"),
        ([5, 5, 5, -1], "all belong to one class"),
    ],
)
def test_impossible_pairs_raise(labels, match):
    with pytest.raises(ValueError, match=match):
        Constraints(labels).positive_negative_pairs(3)


def test_bad_arguments_raise(labels):
    with pytest.raises(ValueError, match="n_constraints must be an integer >= 1"):
        Constraints(labels).positive_negative_pairs(0)
    with pytest.raises(TypeError, match="partial_labels must be integers"):
        Constraints(["a", "b", "a"])
    with pytest.raises(TypeError, match="partial_labels must be integers"):
        Constraints([0.5, 1.0])
    assert Constraints([0.0, 1.0, -1.0]).partial_labels.dtype.kind == "i"


# chunks


@pytest.mark.parametrize("n_chunks, chunk_size", [(5, 2), (4, 3), (1, 5), (6, 2)])
def test_chunks_are_valid(labels, n_chunks, chunk_size):
    chunks = Constraints(labels).chunks(n_chunks, chunk_size, random_state=0)
    assert chunks.shape == labels.shape
    assert np.all(chunks[labels < 0] == -1)
    assert set(np.unique(chunks[chunks >= 0])) == set(range(n_chunks))
    for chunk in range(n_chunks):
        members = np.flatnonzero(chunks == chunk)
        assert len(members) == chunk_size
        assert len(np.unique(labels[members])) == 1
    assert np.sum(chunks == -1) == len(labels) - n_chunks * chunk_size


def test_chunks_are_reproducible_and_random(labels):
    constraints = Constraints(labels)
    first = constraints.chunks(4, 2, random_state=1)
    assert_array_equal(first, constraints.chunks(4, 2, random_state=1))
    draws = {tuple(constraints.chunks(4, 2, random_state=s)) for s in range(20)}
    assert len(draws) > 10


def test_chunks_use_every_class_when_all_points_are_needed(labels):
    # Capacities with chunks of 2: 3 + 2 + 2 = 7, the most there can be.
    chunks = Constraints(labels).chunks(7, 2, random_state=0)
    per_class = [
        len(np.unique(chunks[(labels == c) & (chunks >= 0)])) for c in range(3)
    ]
    assert per_class == [3, 2, 2]


def test_impossible_chunks_raise(labels):
    with pytest.raises(ValueError, match="hold at most 7"):
        Constraints(labels).chunks(8, 2)
    with pytest.raises(ValueError, match="chunk_size must be an integer >= 1"):
        Constraints(labels).chunks(2, 0)


# generate_knntriplets


def _brute_force_triplets(X, y, k_genuine, k_impostor):
    triplets = []
    for anchor in range(len(X)):
        distances = np.linalg.norm(X - X[anchor], axis=1)
        same = [j for j in range(len(X)) if y[j] == y[anchor] and j != anchor]
        other = [j for j in range(len(X)) if y[j] != y[anchor]]
        genuine = sorted(same, key=lambda j: (distances[j], j))[:k_genuine]
        impostors = sorted(other, key=lambda j: (distances[j], j))[:k_impostor]
        triplets += [(anchor, g, i) for g in genuine for i in impostors]
    return np.array(triplets, dtype=np.intp).reshape(-1, 3)


@pytest.mark.parametrize("k_genuine, k_impostor", [(1, 1), (2, 3), (3, 2)])
def test_knntriplets_match_brute_force(k_genuine, k_impostor):
    rng = np.random.RandomState(0)
    X = rng.randn(30, 3)
    y = rng.randint(3, size=30)
    assert np.bincount(y).min() > k_genuine
    triplets = generate_knntriplets(X, y, k_genuine, k_impostor)
    assert triplets.shape == (30 * k_genuine * k_impostor, 3)
    assert_array_equal(triplets, _brute_force_triplets(X, y, k_genuine, k_impostor))


def test_knntriplets_ties_are_broken_by_index():
    X = np.array([[0.0], [1.0], [-1.0], [2.0], [-2.0]])
    y = np.array([0, 0, 0, 1, 1])
    expected = _brute_force_triplets(X, y, 1, 1)
    assert_array_equal(generate_knntriplets(X, y, 1, 1), expected)
    # Point 0 is equally far from 1 and 2: the lower index wins.
    assert tuple(expected[0]) == (0, 1, 3)


def test_knntriplets_shrink_k_for_small_classes_with_a_warning():
    rng = np.random.RandomState(1)
    X = rng.randn(12, 2)
    y = np.array([0] * 8 + [1] * 3 + [2])
    with pytest.warns(UserWarning, match="too small"):
        triplets = generate_knntriplets(X, y, 3, 2)
    assert_array_equal(triplets, _brute_force_triplets(X, y, 3, 2))
    # The singleton class has no same-class neighbour, hence no triplet.
    assert not np.any(triplets[:, 0] == 11)


def test_knntriplets_need_two_classes():
    with pytest.raises(ValueError, match="at least two classes"):
        generate_knntriplets(np.zeros((4, 2)), [1, 1, 1, 1], 1, 1)
    with pytest.raises(ValueError, match="k_genuine"):
        generate_knntriplets(np.zeros((4, 2)), [0, 0, 1, 1], 0, 1)


def test_constraints_knntriplets_skip_unlabelled_points():
    rng = np.random.RandomState(2)
    X = rng.randn(20, 2)
    labels = rng.randint(2, size=20)
    labels[[3, 8, 15]] = -1
    triplets = Constraints(labels).generate_knntriplets(X, 2, 2)
    known = np.flatnonzero(labels >= 0)
    expected = known[_brute_force_triplets(X[known], labels[known], 2, 2)]
    assert_array_equal(triplets, expected)
    assert not np.isin(triplets, [3, 8, 15]).any()


# wrap_pairs


def test_wrap_pairs_returns_indices_and_labels(labels):
    X = np.random.RandomState(0).randn(len(labels), 3)
    constraints = Constraints(labels).positive_negative_pairs(5, random_state=0)
    pairs, y = wrap_pairs(X, constraints)
    a, b, c, d = constraints
    assert pairs.dtype.kind == "i"
    assert_array_equal(pairs, np.column_stack([np.r_[a, c], np.r_[b, d]]))
    assert_array_equal(y, [1] * 5 + [-1] * 5)
    points, y_points = wrap_pairs(X, constraints, materialize=True)
    assert_array_equal(points, X[pairs])
    assert_array_equal(y_points, y)


def test_wrap_pairs_checks_indices():
    with pytest.raises(ValueError, match=r"must lie in \[0, 2\]"):
        wrap_pairs(np.zeros((3, 2)), ([0], [3], [1], [2]))
    with pytest.raises(ValueError, match="needs the data X"):
        wrap_pairs(None, ([0], [1], [1], [2]), materialize=True)
    with pytest.raises(ValueError, match="four index arrays"):
        wrap_pairs(None, ([0], [1]))
    with pytest.raises(TypeError, match="must be integers"):
        wrap_pairs(None, ([0.5], [1], [1], [2]))
    pairs, y = wrap_pairs(None, ([0], [1], [], []))
    assert_array_equal(pairs, [[0, 1]])
    assert_array_equal(y, [1])


def test_constraints_is_a_public_submodule():
    assert constraints_module.Constraints is Constraints
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        from sklearn_metric.metric_learning.constraints import (  # noqa: F401
            generate_knntriplets as reimported,
        )
