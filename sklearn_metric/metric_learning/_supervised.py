"""The supervised front-end shared by the ``*_Supervised`` learners.

A weakly supervised learner (ITML, SDML, MMC, LSML, SCML, RCA) is fitted on
constraints: pairs, quadruplets, triplets or chunklets. Its ``*_Supervised``
twin draws those constraints from class labels. :class:`SupervisedMixin` holds
that front-end once: ``fit(X, y)`` validates the data (resolving the
``preprocessor``), turns the labels into constraints of the learner's kind,
and hands them to the learner's ``_fit_constraints``, which runs the solver
and stores the attributes.

As in metric-learn, a negative integer label (conventionally -1) marks a
sample of unknown class, which enters no constraint.
"""

import inspect
import re
from numbers import Integral

import numpy as np
from sklearn.base import _fit_context
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval
from sklearn.utils.multiclass import check_classification_targets

from ._tuples import validate_points
from .constraints import Constraints, generate_knntriplets

#: Docstring of the parameters every pair or quadruplet front-end adds.
N_CONSTRAINTS_DOC = """n_constraints : int, default=None
        Number of pairs of each kind drawn from the labels; ``None`` means
        ``20 * n_classes**2``."""

#: Docstring of ``preprocessor`` for the front-ends.
PREPROCESSOR_DOC = (
    "preprocessor : array-like of shape (n_samples, n_features) or callable, "
    """default=None
        With a preprocessor, ``fit`` and ``transform`` also take a 1-D array of
        indicators (row indices into the array, or the input of the callable)
        in place of the samples, and the fitted learner's ``pair_distance``
        takes pairs of indicators."""
)


def param_docs(estimator_class):
    """The entries of a class docstring's Parameters section, by name.

    The supervised front-ends substitute their twin's entries into their own
    docstring, so each parameter is described once.

    Parameters
    ----------
    estimator_class : type
        A class with a numpydoc docstring.

    Returns
    -------
    entries : dict of str to str
        ``name : type`` line and description of each parameter, with the
        description lines indented as in a class docstring.
    """
    section = estimator_class.__doc__.split("Parameters\n    ----------\n", 1)[1]
    section = re.split(r"\n\n    \w[^\n]*\n    ---", section, maxsplit=1)[0]
    return {
        name: "\n".join([lines[0].strip(), *lines[1:]]).rstrip()
        for name, lines in _entry_lines(section).items()
    }


def _entry_lines(section):
    """The lines of each parameter entry of a Parameters section, by name.

    An entry starts at a line indented by four spaces (``name : type``) and
    runs to the next one.
    """
    entries, name = {}, None
    for line in section.splitlines():
        if line.startswith("    ") and not line.startswith("     "):
            name = line.strip().split(" : ", 1)[0]
            entries[name] = [line]
        elif name is not None:
            entries[name].append(line)
    return entries


def supervised_doc(template, learner_class, front_end):
    """Fill a front-end's docstring with its twin's parameter entries.

    Parameters
    ----------
    template : str
        The docstring. Its line ``{parameters}``, indented as a parameter
        entry, is replaced by the entries of all of ``front_end``'s
        ``__init__`` parameters, in signature order: an entry written out in
        the template's Parameters section (after ``{parameters}``) is used
        for its name, the twin's or the shared one otherwise. A docstring
        without that line is returned unchanged.
    learner_class : type
        The weakly supervised twin whose entries are used; ``n_constraints``
        and ``preprocessor`` get the front-ends' shared entries.
    front_end : type
        The class being documented.

    Returns
    -------
    doc : str
    """
    marker = "    {parameters}\n"
    if marker not in template:
        return template
    entries = {
        **param_docs(learner_class),
        "n_constraints": N_CONSTRAINTS_DOC,
        "preprocessor": PREPROCESSOR_DOC,
    }
    head, rest = template.split(marker, 1)
    written, tail = _split_entries(rest)
    names = list(inspect.signature(front_end.__init__).parameters)[1:]
    lines = [written.get(name) or "    " + entries[name] for name in names]
    return head + "\n".join(lines) + tail


def _split_entries(text):
    """Parameter entries at the start of ``text``, and what follows them.

    Returns ``({name: entry}, rest)``; the entries end at the first blank
    line, the end of a numpydoc section.
    """
    section, blank, rest = text.partition("\n\n")
    entries = _entry_lines(section)
    return {name: "\n".join(lines) for name, lines in entries.items()}, blank + rest


#: ``_parameter_constraints`` entry of ``n_constraints``.
N_CONSTRAINTS_CONSTRAINT = [Interval(Integral, 1, None, closed="left"), None]


def partial_labels(y, estimator_name, min_classes=1):
    """Encode class labels, keeping negative integers as unknown.

    Parameters
    ----------
    y : ndarray of shape (n_samples,)
        Class labels. When they are integers, a negative label marks a sample
        of unknown class.
    estimator_name : str
        Used in error messages.
    min_classes : int, default=1
        Fewest known classes accepted.

    Returns
    -------
    classes : ndarray of shape (n_classes,)
        The known classes.
    labels : ndarray of shape (n_samples,), dtype=int64
        ``0 .. n_classes - 1`` for known samples, -1 for unknown ones.
    """
    check_classification_targets(y)
    y = np.asarray(y)
    known = np.ones(y.shape[0], dtype=bool)
    if y.dtype.kind in "iuf" and np.all(np.isfinite(y)) and np.all(y == np.round(y)):
        known = y >= 0
    labels = np.full(y.shape[0], -1, dtype=np.int64)
    classes, labels[known] = np.unique(y[known], return_inverse=True)
    if classes.shape[0] < max(min_classes, 1):
        raise ValueError(
            f"{estimator_name} needs samples of at least {max(min_classes, 1)} "
            f"classes; got {classes.shape[0]} known (negative integer labels are "
            "unknown)."
        )
    return classes, labels


class SupervisedMixin:
    """``fit(X, y)`` for a learner fitted on constraints drawn from labels.

    A subclass names its weakly supervised twin and the kind of constraint
    in its class statement (``twin=ITML, kind="pairs"``; the kinds are
    ``"pairs"``, ``"quadruplets"``, ``"triplets"`` and ``"chunks"``), see
    :meth:`__init_subclass__`, and implements
    ``_fit_constraints(X, constraints, random_state, **solver_params)``, which
    runs the solver and stores the fitted attributes. ``constraints`` is
    ``(indices, is_similar)`` for pairs, the ``(n, 4)`` indices for
    quadruplets, ``(triplets, labels)`` for triplets and ``(chunk of each
    sample, known classes)`` for chunks. It lists the mixin
    before :class:`~sklearn_metric.metric_learning.MahalanobisMixin`.
    """

    _constraint_kind = "pairs"

    def __init_subclass__(cls, *, twin=None, kind=None, **kwargs):
        """Declare a front-end from its weakly supervised ``twin``.

        ``class X_Supervised(SupervisedMixin, ..., twin=X, kind="pairs")``
        sets ``_constraint_kind`` to ``kind``; merges ``twin``'s
        ``_parameter_constraints`` under the class's own entries, adding
        ``n_constraints`` for pairs and quadruplets; and fills the class
        docstring's ``{parameters}`` line with ``twin``'s parameter entries
        (see :func:`supervised_doc`).
        """
        super().__init_subclass__(**kwargs)
        if twin is None:
            return
        cls._constraint_kind = kind
        shared = {}
        if kind in ("pairs", "quadruplets"):
            shared["n_constraints"] = N_CONSTRAINTS_CONSTRAINT
        cls._parameter_constraints = {
            **twin._parameter_constraints,
            **shared,
            **cls.__dict__.get("_parameter_constraints", {}),
        }
        cls.__doc__ = supervised_doc(cls.__doc__, twin, cls)

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y):
        """Draw constraints from the labels and learn the metric.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features) or (n_samples,)
            Training data, or indicators into ``preprocessor``.
        y : array-like of shape (n_samples,)
            Class labels; a negative integer marks an unknown class.

        Returns
        -------
        self : object
            The fitted learner.
        """
        return self._fit_supervised(X, y)

    def _fit_supervised(self, X, y, **solver_params):
        """Validate, build the constraints and run the solver."""
        name = type(self).__name__
        X, y = validate_points(self, X, y, reset=True, ensure_min_samples=2)
        min_classes = 1 if self._constraint_kind == "chunks" else 2
        classes, labels = partial_labels(y, name, min_classes)
        random_state = self.random_state
        if self._constraint_kind == "pairs":
            constraints = self._pairs_from_labels(labels, classes)
        elif self._constraint_kind == "quadruplets":
            random_state = check_random_state(random_state)
            constraints = self._quadruplets_from_labels(labels, classes, random_state)
        elif self._constraint_kind == "triplets":
            random_state = check_random_state(random_state)
            constraints = self._triplets_from_labels(X, labels), labels
        else:
            constraints = self._chunks_from_labels(labels), classes
        self._fit_constraints(X, constraints, random_state, **solver_params)
        return self

    def _pairs_from_labels(self, labels, classes):
        """Similar and dissimilar pairs: ``(indices, is_similar)``."""
        n_constraints = self.n_constraints
        if n_constraints is None:
            n_constraints = 20 * classes.shape[0] ** 2
        # The same seed drives the pairs and, later, any random prior, as in
        # metric-learn; a RandomState instance is advanced by both.
        a, b, c, d = Constraints(labels).positive_negative_pairs(
            n_constraints, random_state=self.random_state
        )
        indices = np.concatenate([np.column_stack((a, b)), np.column_stack((c, d))])
        is_similar = np.concatenate(
            [np.ones(a.shape[0], dtype=bool), np.zeros(c.shape[0], dtype=bool)]
        )
        return indices.astype(np.intp), is_similar

    def _quadruplets_from_labels(self, labels, classes, random_state):
        """Quadruplets ``(a, b, c, d)``: same-class ``(a, b)``, other ``(c, d)``."""
        counts = np.bincount(labels[labels >= 0])
        # Same-class pairs exist only in classes of two or more points.
        if counts.max() < 2:
            raise ValueError(
                f"{type(self).__name__} needs a class with at least 2 samples to "
                "form same-class pairs; every class has 1."
            )
        n_constraints = self.n_constraints
        if n_constraints is None:
            # The default is a rule of thumb, silently capped by the number of
            # distinct pairs; an explicit n_constraints that is too large warns.
            n_positive = int(np.sum(counts * (counts - 1) // 2))
            n_negative = int((counts.sum() ** 2 - np.sum(counts**2)) // 2)
            n_constraints = min(20 * classes.shape[0] ** 2, n_positive, n_negative)
        a, b, c, d = Constraints(labels).positive_negative_pairs(
            n_constraints, same_length=True, random_state=random_state
        )
        return np.column_stack((a, b, c, d)).astype(np.intp, copy=False)

    def _triplets_from_labels(self, X, labels):
        """Triplets of each point, a same-class and an other-class neighbour."""
        known = np.flatnonzero(labels >= 0)
        triplets = generate_knntriplets(
            X[known], labels[known], self.k_genuine, self.k_impostor, n_jobs=self.n_jobs
        )
        if known.shape[0] < labels.shape[0]:
            triplets = known[triplets]
        if triplets.shape[0] == 0:
            raise ValueError(
                f"{type(self).__name__} found no triplets: every class has a single "
                "sample, so no point has a same-class neighbour."
            )
        return triplets

    def _chunks_from_labels(self, labels):
        """Chunklet of each sample (-1 for none)."""
        counts = np.bincount(labels[labels >= 0])
        n_chunks = self.n_chunks
        if n_chunks is None:
            n_chunks = int(np.sum(counts // self.chunk_size))
            if n_chunks == 0:
                raise ValueError(
                    f"No class has chunk_size={self.chunk_size} samples, so no "
                    "chunklet can be formed; lower chunk_size."
                )
        return Constraints(labels).chunks(
            n_chunks=n_chunks,
            chunk_size=self.chunk_size,
            random_state=self.random_state,
        )
