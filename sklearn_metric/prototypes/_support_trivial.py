"""Support and trivial prototypes (ST-ProtoPNet) for tabular data."""

import time
from numbers import Integral, Real

import numpy as np
from scipy.special import logsumexp
from sklearn.base import BaseEstimator, _fit_context
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions
from sklearn.utils.validation import validate_data

from .._kernels._threads import single_threaded_blas
from ._base import PrototypeClassifierMixin, check_class_targets, check_class_weights
from ._util import (
    distinct_rows_by_class,
    kmeans_by_class,
    minimize_until_plateau,
    unit_rows,
)

__all__ = ["SupportTrivialPrototypeClassifier"]

#: Loss coefficients of the authors' configuration (``settings_CUB_DOG.py``).
DEFAULT_COEFS = {
    "cross_entropy": 1.0,
    "cluster": -0.8,
    "separation_trivial": 0.08,
    "separation_support": 0.48,
    "orthogonality": 1e-3,
    "discrimination": 1.0,
    "closeness": 1.0,
}
#: Last-layer weight of a prototype for its own class and for the others.
_OWN_WEIGHT, _OTHER_WEIGHT = 1.0, -0.5
_BRANCHES = ("trivial", "support")


def _through_normalisation(grad_unit, unit, norms):
    """Gradient with respect to ``A`` from that with respect to ``A / |A|``."""
    radial = (grad_unit * unit).sum(axis=1, keepdims=True)
    return (grad_unit - radial * unit) / np.where(norms == 0, np.inf, norms)[:, None]


def _block_extreme(S, n_classes, n_per_class, largest):
    """Largest (or smallest) entry of each class-by-class block of ``S``.

    Returns the values over ordered pairs of different classes, and the row
    and column of ``S`` where each is reached.
    """
    blocks = S.reshape(n_classes, n_per_class, n_classes, n_per_class)
    blocks = blocks.transpose(0, 2, 1, 3).reshape(n_classes, n_classes, -1)
    where = blocks.argmax(axis=2) if largest else blocks.argmin(axis=2)
    first, second = np.nonzero(~np.eye(n_classes, dtype=bool))
    flat = where[first, second]
    values = blocks[first, second, flat]
    rows = first * n_per_class + flat // n_per_class
    cols = second * n_per_class + flat % n_per_class
    return values, rows, cols


def _prototype_terms(P, n_classes, n_per_class, branch, coefs):
    """Orthogonality and discrimination (or closeness) terms, and their gradient.

    ``P`` holds unit prototypes, class after class. Returns the value and the
    gradient with respect to ``P``.
    """
    grad = np.zeros_like(P)
    blocks = P.reshape(n_classes, n_per_class, -1)
    gram = blocks @ blocks.transpose(0, 2, 1) - np.eye(n_per_class)
    signs = np.sign(gram)
    value = coefs["orthogonality"] * np.abs(gram).sum()
    grad += coefs["orthogonality"] * (
        (signs + signs.transpose(0, 2, 1)) @ blocks
    ).reshape(P.shape)
    S = P @ P.T
    if branch == "trivial":
        values, rows, cols = _block_extreme(S, n_classes, n_per_class, largest=True)
        scale = coefs["discrimination"] / values.shape[0]
    else:
        values, rows, cols = _block_extreme(S, n_classes, n_per_class, largest=False)
        scale = -coefs["closeness"] / values.shape[0]
    value += scale * values.sum()
    np.add.at(grad, rows, scale * P[cols])
    np.add.at(grad, cols, scale * P[rows])
    return value, grad


def _branch_loss(P, W, Z_unit, y, weights, own, n_classes, n_per_class, branch, coefs):
    """The per-sample terms of one branch: cross-entropy, cluster, separation.

    Returns the value and the gradients with respect to the unit prototypes
    ``P`` and the unit samples ``Z_unit``.
    """
    cosine = Z_unit @ P.T
    similarity = np.maximum(cosine, 0.0)
    logits = similarity @ W.T
    log_norm = logsumexp(logits, axis=1)
    rows = np.arange(y.shape[0])
    cross_entropy = weights @ (log_norm - logits[rows, y])
    grad_logits = np.exp(logits - log_norm[:, None])
    grad_logits[rows, y] -= 1.0
    grad_logits *= coefs["cross_entropy"] * weights[:, None]
    grad_similarity = grad_logits @ W

    own_similarity = np.where(own, similarity, -np.inf)
    best_own = own_similarity.argmax(axis=1)
    other_similarity = np.where(own, -np.inf, similarity)
    best_other = other_similarity.argmax(axis=1)
    cluster = weights @ similarity[rows, best_own]
    value = coefs["cross_entropy"] * cross_entropy + coefs["cluster"] * cluster
    grad_similarity[rows, best_own] += coefs["cluster"] * weights
    separation = weights @ similarity[rows, best_other]
    value += coefs[f"separation_{branch}"] * separation
    grad_similarity[rows, best_other] += coefs[f"separation_{branch}"] * weights
    grad_cosine = grad_similarity * (cosine > 0)
    return value, grad_cosine.T @ Z_unit, grad_cosine @ P


def _weighted_principal_axes(X, weights, n_components):
    """Leading axes of the weighted covariance, each with a positive largest entry."""
    mean = weights @ X / weights.sum()
    centred = X - mean
    covariance = (centred * weights[:, None]).T @ centred / weights.sum()
    _, vectors = np.linalg.eigh(covariance)
    axes = vectors[:, ::-1][:, :n_components].T
    largest = np.argmax(np.abs(axes), axis=1)
    axes *= np.sign(axes[np.arange(n_components), largest])[:, None]
    return np.ascontiguousarray(axes)


class SupportTrivialPrototypeClassifier(PrototypeClassifierMixin, BaseEstimator):
    """Support and trivial prototypes (ST-ProtoPNet), for tabular data.

    Two sets of prototypes, ``n_prototypes_per_class`` per class each, score a
    sample by the similarity ``s_j(x) = max(0, cos(z(x), p_j))``, where
    ``z(x)`` is the sample itself, its image under a fitted metric learner,
    or its image under a linear map learned with the prototypes (one map per
    set). Each set feeds a linear layer of class logits, ``+1`` from a
    prototype to its class and ``-0.5`` to the others, and a sample is given
    the class of the largest sum of the two sets' logits.

    The two sets differ in their training loss (Wang et al., 2023). Both
    minimise the cross-entropy of their own logits, maximise the similarity
    of each sample to the nearest prototype of its class (cluster term),
    penalise its similarity to the nearest prototype of another class
    (separation term) and keep the prototypes of a class orthogonal. The
    *trivial* prototypes are also pushed apart: the largest inner product
    between prototypes of two classes is penalised (discrimination), so they
    settle far from the class boundary, as the prototypes of ProtoPNet do.
    The *support* prototypes are pulled together: the smallest inner product
    between prototypes of two classes is rewarded (closeness), with a larger
    separation coefficient, so they settle near the boundary, as the support
    vectors of an SVM do.

    Prototypes (and maps) are trained with the last layers fixed, by L-BFGS
    on the sum of both losses, with the prototypes normalised to unit length
    as in the authors' code. With ``push=True`` each prototype is then
    replaced by the most similar training sample of its class.

    Read more in the :ref:`User Guide <prototypes>`.

    Parameters
    ----------
    n_prototypes_per_class : int, default=3
        Prototypes of each class in each set.
    branches : {"both", "support", "trivial"}, default="both"
        Which sets to train and classify with.
    n_components : int, default=None
        Dimension of a linear map learned with each set's prototypes, at most
        the number of features (of the metric learner's output, if any).
        ``None`` learns no map.
    metric : fitted metric learner, default=None
        A fitted learner with ``transform`` (such as any Mahalanobis learner of
        :mod:`sklearn_metric.metric_learning`) whose embedding the
        similarities are computed in. ``None`` uses the features as given.
    coefs : dict, default=None
        Loss coefficients replacing those of the authors' configuration, which
        are ``{"cross_entropy": 1.0, "cluster": -0.8, "separation_trivial":
        0.08, "separation_support": 0.48, "orthogonality": 1e-3,
        "discrimination": 1.0, "closeness": 1.0}``.
    push : bool, default=False
        After training, replace each prototype by the most similar training
        sample of its class (in the space of the similarities), so that every
        prototype is a real sample.
    max_iter : int, default=300
        Most L-BFGS iterations for each set of prototypes.
    tol : float, default=1e-3
        Training stops once the objective has fallen by less than ``tol``
        times its value over the last 10 L-BFGS iterations: the loss is
        piecewise smooth, and its gradient does not vanish at a minimum.
    verbose : int, default=0
        Print the objective at every iteration, and the fit time.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Class labels.
    trivial_prototypes_ : ndarray of shape (n_prototypes, n_dimensions) or None
        Unit-length trivial prototypes, class after class, in the space of
        the similarities (the features, the learner's embedding or the
        learned map's image); ``None`` when ``branches="support"``.
    support_prototypes_ : ndarray of shape (n_prototypes, n_dimensions) or None
        The same for the support prototypes; ``None`` when
        ``branches="trivial"``.
    prototype_labels_ : ndarray of shape (n_prototypes,)
        Class of each prototype (the same in both sets).
    trivial_components_, support_components_ : ndarray of shape \
(n_components, n_features) or None
        The learned linear maps, when ``n_components`` is set.
    trivial_last_layer_, support_last_layer_ : ndarray of shape \
(n_classes, n_prototypes) or None
        The class weights of each set's similarities (``+1`` own class,
        ``-0.5`` others).
    trivial_sources_, support_sources_ : ndarray of shape (n_prototypes,) or None
        With ``push=True``, the training rows the prototypes were replaced by.
    n_iter_ : int
        L-BFGS iterations run, summed over the sets.
    n_features_in_ : int
        Number of features seen during :term:`fit`.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during :term:`fit`, when X has string column
        names.

    See Also
    --------
    CBCClassifier : Components shared by all classes, with RBF detections.

    Notes
    -----
    ``decision_function`` returns the summed logits of the sets used and
    ``predict_proba`` their softmax. Training minimises each set's own
    cross-entropy, as in the paper; the softmax of the summed logits is the
    normalised product of the two sets' softmax outputs.

    The cosine similarity ignores the length of ``z(x)``, so the features
    should be centred (standardised, for instance): a prototype is a
    direction from the origin. The deep network's warm-up stage and
    alternating mini-batches have no counterpart here; both sets are trained
    on the full data at once, which for separate maps (or none) is the same
    problem. After a push the authors also fine-tune the last layers for a
    few epochs at a small learning rate (cross-entropy plus an L1 penalty on
    the connections to other classes); minimised to convergence, that
    problem has no solution on separable data (the cross-entropy keeps
    falling as the weights grow), so the last layers are kept fixed here.

    References
    ----------
    .. [1] C. Wang, Y. Liu, Y. Chen, F. Liu, Y. Tian, D. McCarthy, H. Frazer,
       G. Carneiro, "Learning Support and Trivial Prototypes for
       Interpretable Image Classification", ICCV 2023.

    Examples
    --------
    >>> from sklearn.datasets import load_wine
    >>> from sklearn.preprocessing import StandardScaler
    >>> from sklearn_metric.prototypes import SupportTrivialPrototypeClassifier
    >>> X, y = load_wine(return_X_y=True)
    >>> X = StandardScaler().fit_transform(X)
    >>> clf = SupportTrivialPrototypeClassifier().fit(X, y)
    >>> clf.support_prototypes_.shape
    (9, 13)
    >>> clf.predict(X[:3])
    array([0, 0, 0])
    >>> bool(clf.score(X, y) > 0.9)
    True
    """

    _parameter_constraints: dict = {
        "n_prototypes_per_class": [Interval(Integral, 1, None, closed="left")],
        "branches": [StrOptions({"both", "support", "trivial"})],
        "n_components": [Interval(Integral, 1, None, closed="left"), None],
        "metric": [HasMethods(["transform"]), None],
        "coefs": [dict, None],
        "push": ["boolean"],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "verbose": ["verbose"],
    }

    def __init__(
        self,
        n_prototypes_per_class=3,
        *,
        branches="both",
        n_components=None,
        metric=None,
        coefs=None,
        push=False,
        max_iter=300,
        tol=1e-3,
        verbose=0,
    ):
        self.n_prototypes_per_class = n_prototypes_per_class
        self.branches = branches
        self.n_components = n_components
        self.metric = metric
        self.coefs = coefs
        self.push = push
        self.max_iter = max_iter
        self.tol = tol
        self.verbose = verbose

    def _coefficients(self):
        coefs = dict(DEFAULT_COEFS)
        if self.coefs is not None:
            unknown = set(self.coefs) - set(DEFAULT_COEFS)
            if unknown:
                raise ValueError(
                    f"Unknown coefs {sorted(unknown)}; the keys are "
                    f"{sorted(DEFAULT_COEFS)}."
                )
            for key, value in self.coefs.items():
                if not isinstance(value, Real) or not np.isfinite(value):
                    raise ValueError(
                        f"coefs[{key!r}] must be a finite number; got {value!r}."
                    )
            coefs.update({key: float(value) for key, value in self.coefs.items()})
        return coefs

    def _embed(self, X):
        if self.metric is None:
            return np.asarray(X, dtype=np.float64)
        return np.asarray(self.metric.transform(X), dtype=np.float64)

    def _used_branches(self):
        return _BRANCHES if self.branches == "both" else (self.branches,)

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Train the prototypes (and maps), then optionally push them.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training samples.
        y : array-like of shape (n_samples,)
            Class labels.
        sample_weight : array-like of shape (n_samples,), default=None
            Weights of the samples in every per-sample term of the loss and in
            the initialisation. ``None`` weighs all equally.

        Returns
        -------
        self : SupportTrivialPrototypeClassifier
            The fitted classifier.
        """
        start = time.perf_counter()
        X, y = validate_data(self, X, y, dtype=[np.float64, np.float32])
        labels = check_class_targets(self, y)
        weights = check_class_weights(self, sample_weight, X, labels)
        weights = weights / weights.sum()
        coefs = self._coefficients()
        Z = self._embed(X)
        n_classes = self.classes_.shape[0]
        per_class = self.n_prototypes_per_class
        if self.n_components is not None and self.n_components > Z.shape[1]:
            raise ValueError(
                f"n_components={self.n_components} must be at most the "
                f"{Z.shape[1]} dimensions of the data the map applies to."
            )
        maps = None
        if self.n_components is not None:
            maps = _weighted_principal_axes(Z, weights, self.n_components)
        mapped = Z if maps is None else Z @ maps.T
        distinct = distinct_rows_by_class(mapped, labels, weights, n_classes)
        counts = np.array([rows.shape[0] for rows, _ in distinct])
        if counts.min() < per_class:
            raise ValueError(
                f"n_prototypes_per_class={per_class} needs that many distinct "
                f"rows of positive weight in every class; class "
                f"{self.classes_[np.argmin(counts)]!r} has {int(counts.min())}."
            )
        prototypes = kmeans_by_class(distinct, np.full(n_classes, per_class))
        prototypes = unit_rows(prototypes)[0]
        self.prototype_labels_ = np.repeat(self.classes_, per_class)
        own = labels[:, None] == np.repeat(np.arange(n_classes), per_class)[None, :]
        W0 = np.where(
            np.repeat(np.eye(n_classes, dtype=bool), per_class, axis=1),
            _OWN_WEIGHT,
            _OTHER_WEIGHT,
        )
        problem = dict(
            Z=Z,
            y=labels,
            weights=weights,
            own=own,
            n_classes=n_classes,
            n_per_class=per_class,
            coefs=coefs,
        )

        self.n_iter_ = 0
        for branch in _BRANCHES:
            for name in ("prototypes", "components", "last_layer", "sources"):
                setattr(self, f"{branch}_{name}_", None)
        with single_threaded_blas():
            for branch in self._used_branches():
                x0 = prototypes.ravel()
                if maps is not None:
                    x0 = np.concatenate([x0, maps.ravel()])
                solution, n_iter, _ = minimize_until_plateau(
                    lambda flat, branch=branch: _branch_objective(
                        flat,
                        W0,
                        branch,
                        prototypes.shape[1],
                        maps is not None,
                        **problem,
                    ),
                    x0,
                    max_iter=self.max_iter,
                    tol=self.tol,
                    estimator_name=type(self).__name__,
                    verbose=self.verbose,
                )
                self.n_iter_ += n_iter
                V, L = _split(solution, prototypes.shape, maps)
                setattr(self, f"{branch}_prototypes_", unit_rows(V)[0])
                setattr(self, f"{branch}_components_", L)
                setattr(self, f"{branch}_last_layer_", W0.copy())
        if self.push:
            self._push(Z, labels, weights)
        if self.verbose:
            print(
                f"[{type(self).__name__}] training took "
                f"{time.perf_counter() - start:.2f}s"
            )
        return self

    def _unit_samples(self, Z, branch):
        L = getattr(self, f"{branch}_components_")
        return unit_rows(Z if L is None else Z @ L.T)[0]

    def _push(self, Z, labels, weights):
        """Replace each prototype by the most similar training sample of its class."""
        n_classes = self.classes_.shape[0]
        prototype_class = np.repeat(np.arange(n_classes), self.n_prototypes_per_class)
        eligible = (labels[:, None] == prototype_class[None, :]) & (weights > 0)[
            :, None
        ]
        for branch in self._used_branches():
            Z_unit = self._unit_samples(Z, branch)
            cosine = Z_unit @ getattr(self, f"{branch}_prototypes_").T
            sources = np.argmax(np.where(eligible, cosine, -np.inf), axis=0)
            setattr(self, f"{branch}_sources_", sources)
            setattr(self, f"{branch}_prototypes_", Z_unit[sources].copy())

    def _class_scores(self, X):
        Z = self._embed(X)
        scores = 0.0
        for branch in self._used_branches():
            similarity = np.maximum(
                self._unit_samples(Z, branch)
                @ getattr(self, f"{branch}_prototypes_").T,
                0.0,
            )
            scores = scores + similarity @ getattr(self, f"{branch}_last_layer_").T
        return scores

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_label = False
        tags.target_tags.multi_output = False
        return tags


def _split(flat, prototype_shape, maps):
    size = prototype_shape[0] * prototype_shape[1]
    V = flat[:size].reshape(prototype_shape)
    L = None if maps is None else flat[size:].reshape(maps.shape)
    return V, L


def _branch_objective(
    flat,
    W,
    branch,
    n_dimensions,
    learn_map,
    *,
    Z,
    y,
    weights,
    own,
    n_classes,
    n_per_class,
    coefs,
):
    """Loss of one set of prototypes (and its map) and the gradient.

    ``flat`` holds the raw prototypes, of ``n_dimensions`` each (normalised
    inside), then, when ``learn_map``, the map of shape (n_dimensions,
    n_features); ``W`` is the fixed last layer.
    """
    n_prototypes = n_classes * n_per_class
    V = flat[: n_prototypes * n_dimensions].reshape(n_prototypes, n_dimensions)
    P, prototype_norms = unit_rows(V)
    if learn_map:
        L = flat[n_prototypes * n_dimensions :].reshape(n_dimensions, Z.shape[1])
        mapped = Z @ L.T
    else:
        mapped = Z
    Z_unit, sample_norms = unit_rows(mapped)
    value, grad_P, grad_Z_unit = _branch_loss(
        P, W, Z_unit, y, weights, own, n_classes, n_per_class, branch, coefs
    )
    extra, grad_extra = _prototype_terms(P, n_classes, n_per_class, branch, coefs)
    value += extra
    grad_P += grad_extra
    grad = [_through_normalisation(grad_P, P, prototype_norms).ravel()]
    if learn_map:
        grad_mapped = _through_normalisation(grad_Z_unit, Z_unit, sample_norms)
        grad.append((grad_mapped.T @ Z).ravel())
    return value, np.concatenate(grad)
