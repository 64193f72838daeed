"""Classification-by-components (CBC) with RBF detections, stable and original."""

import time
from numbers import Integral, Real

import numpy as np
from scipy.special import logsumexp
from scipy.special import softmax as _softmax
from sklearn.base import BaseEstimator, _fit_context
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import validate_data

from .._kernels import _distances as _kd
from .._kernels._threads import single_threaded_blas
from .._metric import METRIC_CONSTRAINT
from ..distances import _resolve_metric, pairwise_distances
from ._base import PrototypeClassifierMixin, check_class_targets, check_class_weights
from ._kernels._cbc import coordinate_distance_gradient
from ._util import distinct_rows_by_class, kmeans_by_class, minimize_until_plateau

__all__ = ["CBCClassifier"]

#: ``sigma="auto"`` makes a training pair at the mean plus one standard
#: deviation of the pairwise distances have this detection probability.
AUTO_SIGMA_DETECTION = 0.1
#: Rows used for the distance statistics of ``sigma="auto"`` at most.
_SIGMA_SAMPLE = 1000
#: Floor of the agreement probabilities before their logarithm is taken.
_TINY = np.finfo(np.float64).tiny
#: Work (rows x concept pairs x components) per block of robustness_radius.
_RADIUS_BLOCK = 2**22
#: Distances below this times the coordinates' size count as zero in gradients.
_COINCIDENT = 1e-10

_METRIC_NAMES = {
    _kd.EUCLIDEAN: "euclidean",
    _kd.SQEUCLIDEAN: "sqeuclidean",
    _kd.MANHATTAN: "manhattan",
    _kd.CHEBYSHEV: "chebyshev",
    _kd.MINKOWSKI: "minkowski",
    _kd.COSINE: "cosine",
    _kd.SNR: "snr",
}
# Distances that satisfy the triangle inequality, which the certified radius
# rests on (a Mahalanobis learner resolves to the Euclidean code).
_TRUE_METRICS = (_kd.EUCLIDEAN, _kd.MANHATTAN, _kd.CHEBYSHEV, _kd.MINKOWSKI)


def _reasoning_affine(theta, reasoning, n_components):
    """Class-concept scores as an affine map ``q = d @ alpha + beta``.

    Returns the reasoning probabilities as well: for ``"stable"``, of shape
    (2, n_components, n_reasonings), positive then negative, each column
    summing to one over both; for ``"original"``, of shape (3, n_components,
    n_reasonings), positive, indefinite and negative requiredness, summing to
    one over the first axis.
    """
    if reasoning == "stable":
        probabilities = _softmax(theta, axis=0)
        positive, negative = probabilities[:n_components], probabilities[n_components:]
        alpha = positive - negative
        beta = negative.sum(axis=0)
        return alpha, beta, probabilities.reshape(2, n_components, -1)
    probabilities = _softmax(theta, axis=0)
    positive, negative = probabilities[0], probabilities[2]
    scale = (positive + negative).sum(axis=0)
    alpha = (positive - negative) / scale
    beta = negative.sum(axis=0) / scale
    return alpha, beta, probabilities


def _reasoning_backward(grad_alpha, grad_beta, theta, reasoning, n_components):
    """Gradient with respect to ``theta`` from those with respect to alpha, beta."""
    probabilities = _softmax(theta, axis=0)
    if reasoning == "stable":
        grad_p = np.vstack([grad_alpha, grad_beta[None, :] - grad_alpha])
    else:
        positive, negative = probabilities[0], probabilities[2]
        scale = (positive + negative).sum(axis=0)
        alpha = (positive - negative) / scale
        beta = negative.sum(axis=0) / scale
        # alpha and beta are both divided by `scale`, which every positive and
        # negative requiredness enters with weight one.
        through_scale = (grad_alpha * alpha).sum(axis=0) + grad_beta * beta
        grad_p = np.stack(
            [
                (grad_alpha - through_scale) / scale,
                np.zeros_like(grad_alpha),
                (grad_beta - grad_alpha - through_scale) / scale,
            ]
        )
    # Softmax over the first axis: dL/dtheta = p * (g - <p, g>).
    return probabilities * (grad_p - (probabilities * grad_p).sum(axis=0))


def _distance_gradient(code, p, Z, W, D, G):
    """``sum_n G[n, k] * grad_w d(Z[n], w)`` at ``w = W[k]``, for every ``k``."""
    if code == _kd.SQEUCLIDEAN:
        return 2.0 * (G.sum(axis=0)[:, None] * W - G.T @ Z)
    if code == _kd.COSINE:
        z_norm = np.linalg.norm(Z, axis=1)
        w_norm = np.linalg.norm(W, axis=1)
        Z_unit = Z / np.where(z_norm == 0, 1.0, z_norm)[:, None]
        W_unit = W / np.where(w_norm == 0, 1.0, w_norm)[:, None]
        cosine = Z_unit @ W_unit.T
        grad = (G * cosine).sum(axis=0)[:, None] * W_unit - G.T @ Z_unit
        return grad / np.where(w_norm == 0, np.inf, w_norm)[:, None]
    if code == _kd.SNR:
        Z_centred = Z - Z.mean(axis=1, keepdims=True)
        W_centred = W - W.mean(axis=1, keepdims=True)
        variance = (Z_centred**2).mean(axis=1)
        with np.errstate(divide="ignore", invalid="ignore"):
            H = np.where(variance[:, None] > 0, G / variance[:, None], 0.0)
        H[~np.isfinite(D)] = 0.0
        scale = 2.0 / Z.shape[1]
        return scale * (H.sum(axis=0)[:, None] * W_centred - H.T @ Z_centred)
    if code in (_kd.EUCLIDEAN, _kd.MINKOWSKI):
        # The direction from a sample to a component that (nearly) coincides
        # with it is rounding noise: such pairs take the zero subgradient.
        scale = np.abs(Z).max(axis=1)[:, None] + np.abs(W).max(axis=1)[None, :]
        G = np.where(D <= _COINCIDENT * scale, 0.0, G)
    out = np.zeros(W.shape)
    coordinate_distance_gradient(Z, W, D, G, code, p, out)
    return out


def _concept_scores(q, n_classes):
    """Class scores (the best concept of each class) and which concept it is."""
    per_class = q.reshape(q.shape[0], n_classes, -1)
    return per_class.max(axis=2), per_class.argmax(axis=2)


class _Objective:
    """The weighted margin loss of a CBC model and its gradient."""

    def __init__(
        self,
        Z,
        y,
        weights,
        *,
        n_classes,
        n_components,
        reasoning,
        margin,
        sigma,
        metric,
        embedding,
        n_jobs,
    ):
        self.Z = Z
        self.y = y
        self.weights = weights
        self.n_classes = n_classes
        self.n_components = n_components
        self.reasoning = reasoning
        self.margin = margin
        self.sigma = sigma
        self.code = metric.code
        self.p = metric.p
        self.embedding = embedding
        self.n_jobs = n_jobs
        self.distance_params = {"p": metric.p} if metric.code == _kd.MINKOWSKI else {}
        self.n_features = Z.shape[1] if embedding is None else embedding.shape[1]

    def split(self, flat, theta_shape):
        size = self.n_components * self.n_features
        W = flat[:size].reshape(self.n_components, self.n_features)
        return W, flat[size:].reshape(theta_shape)

    def __call__(self, flat, theta_shape):
        W, theta = self.split(flat, theta_shape)
        Wz = W if self.embedding is None else W @ self.embedding.T
        D = pairwise_distances(
            self.Z,
            Wz,
            metric=_METRIC_NAMES[self.code],
            n_jobs=self.n_jobs,
            **self.distance_params,
        )
        detection = np.exp(-D / self.sigma)
        alpha, beta, _ = _reasoning_affine(theta, self.reasoning, self.n_components)
        q = detection @ alpha + beta
        scores, best_concept = _concept_scores(q, self.n_classes)

        rows = np.arange(q.shape[0])
        own = scores[rows, self.y]
        rivals = scores.copy()
        rivals[rows, self.y] = -np.inf
        rival = np.argmax(rivals, axis=1)
        excess = rivals[rows, rival] - own + self.margin
        active = excess > 0
        loss = float(self.weights[active] @ excess[active])

        # Gradient: +w on the best rival class, -w on the own class, for the
        # samples inside the margin, routed to each class's best concept.
        grad_scores = np.zeros_like(scores)
        grad_scores[rows[active], rival[active]] += self.weights[active]
        grad_scores[rows[active], self.y[active]] -= self.weights[active]
        n_per_class = q.shape[1] // self.n_classes
        grad_q = np.zeros_like(q)
        concept = np.arange(self.n_classes)[None, :] * n_per_class + best_concept
        np.put_along_axis(grad_q, concept, grad_scores, axis=1)

        grad_alpha = detection.T @ grad_q
        grad_beta = grad_q.sum(axis=0)
        grad_theta = _reasoning_backward(
            grad_alpha, grad_beta, theta, self.reasoning, self.n_components
        )
        grad_distance = -(grad_q @ alpha.T) * detection / self.sigma
        grad_W = _distance_gradient(self.code, self.p, self.Z, Wz, D, grad_distance)
        if self.embedding is not None:
            grad_W = grad_W @ self.embedding
        return loss, np.concatenate([grad_W.ravel(), grad_theta.ravel()])


def _class_shares(n_components, capacity, class_weight):
    """Split ``n_components`` over the classes, at most ``capacity`` each."""
    n_classes = capacity.shape[0]
    order = np.argsort(-class_weight, kind="stable")
    shares = np.full(n_classes, n_components // n_classes)
    shares[order[: n_components % n_classes]] += 1
    excess = np.maximum(shares - capacity, 0).sum()
    shares = np.minimum(shares, capacity)
    for label in order:
        if excess == 0:
            break
        extra = min(excess, capacity[label] - shares[label])
        shares[label] += extra
        excess -= extra
    return shares


def _kmeans_components(X, y, weights, n_components, n_classes):
    """Class-wise weighted k-means centres, ``n_components`` in all, split evenly."""
    distinct = distinct_rows_by_class(X, y, weights, n_classes)
    capacity = np.array([rows.shape[0] for rows, _ in distinct])
    if capacity.sum() < n_components:
        raise ValueError(
            f"n_components={n_components} is more than the {capacity.sum()} "
            "distinct training rows of positive weight."
        )
    class_weight = np.array([summed.sum() for _, summed in distinct])
    return kmeans_by_class(
        distinct, _class_shares(n_components, capacity, class_weight)
    )


def _auto_sigma(X, weights, metric, metric_params, random_state, n_jobs):
    """Temperature from the statistics of the training pair distances.

    Each pair of distinct rows counts with the product of their weights, and a
    row of weight ``w`` adds ``w (w - 1) / 2`` pairs at distance zero, as its
    ``w`` copies would.
    """
    rows = np.flatnonzero(weights > 0)
    if rows.shape[0] > _SIGMA_SAMPLE:
        rows = np.sort(random_state.choice(rows, _SIGMA_SAMPLE, replace=False))
    sample, sample_weights = X[rows], weights[rows]
    D = pairwise_distances(
        sample, metric=metric, n_jobs=n_jobs, **(metric_params or {})
    ).astype(np.float64)
    upper = np.triu_indices(rows.shape[0], k=1)
    values = np.concatenate([D[upper], np.zeros(rows.shape[0])])
    pair_weights = np.concatenate(
        [
            sample_weights[upper[0]] * sample_weights[upper[1]],
            np.maximum(sample_weights * (sample_weights - 1.0), 0.0) / 2.0,
        ]
    )
    finite = np.isfinite(values) & (pair_weights > 0)
    if not finite.any():
        return 1.0
    values, pair_weights = values[finite], pair_weights[finite]
    mean = pair_weights @ values / pair_weights.sum()
    std = np.sqrt(pair_weights @ (values - mean) ** 2 / pair_weights.sum())
    sigma = (mean + std) / -np.log(AUTO_SIGMA_DETECTION)
    return float(sigma) if np.isfinite(sigma) and sigma > 0 else 1.0


def _log_flip_factor(log_a, log_n, b):
    """``log u*``, ``u*`` the positive root of ``-N u^2 + b u + A``.

    Computed from ``log A``, ``log N`` and ``b`` without cancellation: for
    ``b > 0`` as ``(b + sqrt(b^2 + 4AN)) / (2N)``, otherwise as
    ``2A / (sqrt(b^2 + 4AN) - b)``. ``+inf`` when ``N = 0`` and ``b >= 0``.
    """
    with np.errstate(divide="ignore", invalid="ignore"):
        log_b = np.log(np.abs(b))
        log_root = 0.5 * np.logaddexp(2.0 * log_b, np.log(4.0) + log_a + log_n)
        positive = np.logaddexp(log_b, log_root) - np.log(2.0) - log_n
        other = np.log(2.0) + log_a - np.logaddexp(log_root, log_b)
        result = np.where(b > 0, positive, other)
    # 0 / 0 arises only for an exact tie, whose radius is zero.
    return np.where(np.isnan(result), -np.inf, result)


class CBCClassifier(PrototypeClassifierMixin, BaseEstimator):
    """Classification-by-components with RBF detections (stable or original CBC).

    A set of components ``w_1 .. w_K`` (points of the input space, shared by
    all classes) is detected in a sample with probability
    ``d_k(x) = exp(-dist(x, w_k) / sigma)``. Each class reasons over the
    detections: for every component it learns how much its presence
    (positive reasoning) or absence (negative reasoning) speaks for the class.
    With the stable reasoning of Saralajew et al. (2025) the probability that
    the sample agrees with class ``c`` is

        ``p_c(x) = sum_k R+[k, c] d_k(x) + R-[k, c] (1 - d_k(x))``,

    where the reasoning probabilities ``R+`` and ``R-`` of a class sum to one
    over all components; the original reasoning of Saralajew et al. (2019)
    gives each (component, class) pair positive, negative and indefinite
    requiredness and normalises by the non-indefinite part. In both, ``p_c``
    is an affine function of the detections with bounded weights, an RBF
    network whose weights read as explanations. Components and reasonings
    are trained together by L-BFGS on the margin loss
    ``max(0, max_{c != y} p_c - p_y + margin)``, averaged with the sample
    weights. For a metric that satisfies the triangle inequality, the model
    certifies a radius around each sample within which its prediction cannot
    change (:meth:`robustness_radius`).

    Read more in the :ref:`User Guide <prototypes>`.

    Parameters
    ----------
    n_components : int, default=None
        Number of components. ``None`` means two per class.
    n_reasonings_per_class : int, default=1
        Reasoning concepts of each class; a class's agreement is that of its
        best concept.
    reasoning : {"stable", "original"}, default="stable"
        ``"stable"``: class-wise component priors and positive or negative
        reasoning (2025). ``"original"``: positive, negative and indefinite
        requiredness (2019).
    sigma : "auto" or float, default="auto"
        Temperature of the detections, kept fixed during training. ``"auto"``
        gives detection probability 0.1 to a pair of training rows at the
        mean plus one standard deviation of their pairwise distances (the
        rule of the authors' ``enlaight`` code, there with a free target
        probability).
    margin : float, default=0.05
        Margin between the agreement of the true class and the best other one
        below which a sample is penalised. The papers use 0.3 with deep
        feature extractors; on the input space of tabular data the
        agreements of a shallow model lie closer together, and 0.3 leaves
        most samples inside the margin (see Notes).
    metric : str or fitted metric learner, default="euclidean"
        The distance of the detections: a name of
        :data:`sklearn_metric.distances.METRICS` or a fitted Mahalanobis
        learner (or the callable its ``get_metric()`` returns). Other Python
        callables are refused: the solver needs the gradient.
    metric_params : dict, default=None
        Parameters of the metric, such as ``p`` for ``"minkowski"`` or ``VI``
        for ``"mahalanobis"``.
    init : {"kmeans", "random"}, default="kmeans"
        Starting components: weighted k-means centres within each class (the
        components split evenly over the classes; deterministic), or random
        training rows.
    max_iter : int, default=1000
        Most L-BFGS iterations.
    tol : float, default=1e-3
        Training stops once the objective has fallen by less than ``tol``
        times its value over the last 10 L-BFGS iterations: the loss is
        piecewise smooth, and its gradient does not vanish at a minimum.
    random_state : int, RandomState instance or None, default=None
        Seed of the initial reasoning probabilities, of ``init="random"`` and
        of the row sample of ``sigma="auto"`` on large data.
    verbose : int, default=0
        Print the objective at every iteration, and the fit time.
    n_jobs : int, default=None
        Numba threads for the distance computations.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Class labels.
    components_ : ndarray of shape (n_components, n_features)
        The trained components, in the input space (also with a metric
        learner, whose map is applied to samples and components alike).
    reasoning_probabilities_ : ndarray of shape (n_states, n_components, \
n_reasonings)
        With ``reasoning="stable"``, ``n_states=2``: ``R+`` then ``R-``, each
        column summing to one over both states and all components. With
        ``"original"``, ``n_states=3``: positive, indefinite and negative
        requiredness, summing to one over the first axis.
    reasoning_labels_ : ndarray of shape (n_reasonings,)
        Class of each reasoning concept.
    sigma_ : float
        The temperature used.
    n_iter_ : int
        L-BFGS iterations run.
    loss_ : float
        Final value of the margin loss.
    n_features_in_ : int
        Number of features seen during :term:`fit`.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during :term:`fit`, when X has string column
        names.

    See Also
    --------
    SupportTrivialPrototypeClassifier : Prototypes on and away from the class
        boundary.

    Notes
    -----
    ``decision_function`` returns the logarithms of the agreement
    probabilities ``p_c`` (see :meth:`agreement_probability`), and
    ``predict_proba`` the agreement probabilities normalised to sum to one:
    the ``p_c`` are probabilities of separate events (agreement with each
    class), not a distribution over the classes.

    The radius of :meth:`robustness_radius` follows the proof of Theorem 1
    of Saralajew et al. (2025): within distance ``r`` of ``x`` each detection
    lies in ``[d_k e^(-r / sigma), d_k e^(r / sigma)]`` (triangle
    inequality), and the worst case of the affine difference between the
    agreements with the predicted class and a rival over that box is a
    quadratic in ``e^(r / sigma)``, whose positive root gives the radius.
    The coefficients of each component are netted before the worst case is
    taken, which gives a bound at least as large as the one of the authors'
    code (which splits them into a positive and a negative part) and still
    guaranteed; the same bound holds for the original reasoning, also affine
    in the detections. With several concepts per class the radius is the
    smallest over rival concepts of the largest over the predicted class's
    concepts. The bound is attained when the sample can move straight away
    from the components that speak for its class and towards those that
    speak against it, as on a line between two components; in general it
    is conservative.

    Defaults differ from the papers' deep-network settings: ``margin=0.05``
    instead of 0.3 and a fixed ``sigma`` (the authors train one per
    component). On digits (the protocol of the User Guide) a margin of 0.3
    gives 0.90 test accuracy, 0.05 gives 0.96; a trained ``sigma`` shrinks
    to a degenerate value on small many-class data.

    References
    ----------
    .. [1] S. Saralajew, L. Holdijk, M. Rees, E. Asan, T. Villmann,
       "Classification-by-Components: Probabilistic Modeling of Reasoning over
       a Set of Components", NeurIPS 2019.
    .. [2] S. Saralajew, A. Rana, T. Villmann, A. Shaker, "A Robust
       Prototype-Based Network with Interpretable RBF Classifier
       Foundations", 2025, arXiv:2412.15499.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.preprocessing import StandardScaler
    >>> from sklearn_metric.prototypes import CBCClassifier
    >>> X, y = load_iris(return_X_y=True)
    >>> X = StandardScaler().fit_transform(X)
    >>> clf = CBCClassifier(random_state=0).fit(X, y)
    >>> clf.components_.shape
    (6, 4)
    >>> clf.predict(X[:3])
    array([0, 0, 0])
    >>> bool(clf.score(X, y) > 0.9)
    True
    """

    _parameter_constraints: dict = {
        "n_components": [Interval(Integral, 1, None, closed="left"), None],
        "n_reasonings_per_class": [Interval(Integral, 1, None, closed="left")],
        "reasoning": [StrOptions({"stable", "original"})],
        "sigma": [StrOptions({"auto"}), Interval(Real, 0, None, closed="neither")],
        "margin": [Interval(Real, 0, None, closed="left")],
        "metric": METRIC_CONSTRAINT,
        "metric_params": [dict, None],
        "init": [StrOptions({"kmeans", "random"})],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
        "n_jobs": [Integral, None],
    }

    def __init__(
        self,
        n_components=None,
        *,
        n_reasonings_per_class=1,
        reasoning="stable",
        sigma="auto",
        margin=0.05,
        metric="euclidean",
        metric_params=None,
        init="kmeans",
        max_iter=1000,
        tol=1e-3,
        random_state=None,
        verbose=0,
        n_jobs=None,
    ):
        self.n_components = n_components
        self.n_reasonings_per_class = n_reasonings_per_class
        self.reasoning = reasoning
        self.sigma = sigma
        self.margin = margin
        self.metric = metric
        self.metric_params = metric_params
        self.init = init
        self.max_iter = max_iter
        self.tol = tol
        self.random_state = random_state
        self.verbose = verbose
        self.n_jobs = n_jobs

    def _resolved_metric(self, n_features):
        metric = _resolve_metric(self.metric, self.metric_params or {}, n_features)
        if metric.func is not None:
            raise ValueError(
                "CBCClassifier needs a metric whose gradient it knows: a name of "
                "sklearn_metric.distances.METRICS or a fitted Mahalanobis learner; "
                f"got the callable {self.metric!r}."
            )
        return metric

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Train the components and the reasoning probabilities.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training samples.
        y : array-like of shape (n_samples,)
            Class labels.
        sample_weight : array-like of shape (n_samples,), default=None
            Weights of the samples in the loss, the component initialisation
            and the ``sigma="auto"`` statistics. ``None`` weighs all equally.

        Returns
        -------
        self : CBCClassifier
            The fitted classifier.
        """
        start = time.perf_counter()
        X, y = validate_data(self, X, y, dtype=[np.float64, np.float32])
        labels = check_class_targets(self, y)
        weights = check_class_weights(self, sample_weight, X, labels)
        n_classes = self.classes_.shape[0]
        n_components = 2 * n_classes if self.n_components is None else self.n_components
        metric = self._resolved_metric(X.shape[1])
        random_state = check_random_state(self.random_state)
        X64 = np.asarray(X, dtype=np.float64)

        if self.init == "kmeans":
            components = _kmeans_components(
                X64, labels, weights, n_components, n_classes
            )
        else:
            candidates = np.flatnonzero(weights > 0)
            if candidates.shape[0] < n_components:
                raise ValueError(
                    f"n_components={n_components} is more than the "
                    f"{candidates.shape[0]} training rows of positive weight."
                )
            rows = random_state.choice(candidates, n_components, replace=False)
            components = X64[np.sort(rows)].copy()

        n_reasonings = n_classes * self.n_reasonings_per_class
        # The authors' initialisation: requiredness near 1/2, priors near uniform.
        requiredness = 0.6 - 0.2 * random_state.uniform(
            size=(n_components, n_reasonings)
        )
        if self.reasoning == "stable":
            prior = _softmax(
                random_state.uniform(size=(n_components, n_reasonings)), axis=0
            )
            theta = np.log(
                np.vstack([prior * requiredness, prior * (1 - requiredness)])
            )
        else:
            negative = (1 - requiredness) * (
                0.6 - 0.2 * random_state.uniform(size=(n_components, n_reasonings))
            )
            theta = np.log(
                np.stack([requiredness, 1 - requiredness - negative, negative])
            )

        if self.sigma == "auto":
            self.sigma_ = _auto_sigma(
                X64, weights, self.metric, self.metric_params, random_state, self.n_jobs
            )
        else:
            self.sigma_ = float(self.sigma)

        embedding = metric.components
        Z = X64 if embedding is None else X64 @ embedding.T
        objective = _Objective(
            np.ascontiguousarray(Z),
            labels,
            weights / weights.sum(),
            n_classes=n_classes,
            n_components=n_components,
            reasoning=self.reasoning,
            margin=float(self.margin),
            sigma=self.sigma_,
            metric=metric,
            embedding=embedding,
            n_jobs=self.n_jobs,
        )
        theta_shape = theta.shape
        x0 = np.concatenate([components.ravel(), theta.ravel()])
        with single_threaded_blas():
            solution, self.n_iter_, _ = minimize_until_plateau(
                lambda flat: objective(flat, theta_shape),
                x0,
                max_iter=self.max_iter,
                tol=self.tol,
                estimator_name=type(self).__name__,
                verbose=self.verbose,
            )
        components, theta = objective.split(solution, theta_shape)
        self.components_ = np.ascontiguousarray(components)
        self._alpha, self._beta, self.reasoning_probabilities_ = _reasoning_affine(
            theta, self.reasoning, n_components
        )
        self.reasoning_labels_ = np.repeat(self.classes_, self.n_reasonings_per_class)
        self.loss_ = objective(solution, theta_shape)[0]
        if self.verbose:
            print(
                f"[{type(self).__name__}] training took "
                f"{time.perf_counter() - start:.2f}s"
            )
        return self

    def _distances(self, X):
        return pairwise_distances(
            X,
            self.components_,
            metric=self.metric,
            n_jobs=self.n_jobs,
            **(self.metric_params or {}),
        ).astype(np.float64, copy=False)

    def _agreement(self, X):
        detection = np.exp(-self._distances(X) / self.sigma_)
        q = detection @ self._alpha + self._beta
        return _concept_scores(q, self.classes_.shape[0])[0]

    def _class_scores(self, X):
        return np.log(np.maximum(self._agreement(X), _TINY))

    def agreement_probability(self, X):
        """Probability that each sample agrees with each class.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Query rows.

        Returns
        -------
        agreement : ndarray of shape (n_samples, n_classes)
            ``p_c(x)`` in ``[0, 1]`` for each class, in the order of
            ``classes_`` (with several reasoning concepts per class, the
            largest); the rows need not sum to one.
        """
        return self._agreement(self._validate_query(X))

    def robustness_radius(self, X):
        """Certified radius within which the prediction cannot change.

        Every ``x'`` with ``metric(x, x') < r`` is given the same class as
        ``x``. This needs a metric that satisfies the triangle inequality
        (Euclidean, Manhattan, Chebyshev, Minkowski or Mahalanobis, the last
        also as a fitted learner), so that each distance to a component moves
        by at most ``metric(x, x')``; the radius is measured in that metric.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Query rows.

        Returns
        -------
        radius : ndarray of shape (n_samples,)
            The radius for the predicted class; ``inf`` where no perturbation
            can change the prediction, ``0`` at a tie between classes.
        """
        X = self._validate_query(X)
        if self._resolved_metric(X.shape[1]).code not in _TRUE_METRICS:
            raise ValueError(
                "robustness_radius needs a metric that satisfies the triangle "
                "inequality (euclidean, manhattan, chebyshev, minkowski, "
                f"mahalanobis or a fitted learner); got metric={self.metric!r}."
            )
        log_detection = -self._distances(X) / self.sigma_
        q = np.exp(log_detection) @ self._alpha + self._beta
        scores, _ = _concept_scores(q, self.classes_.shape[0])
        predicted = np.argmax(scores, axis=1)

        per_class = self.n_reasonings_per_class
        concepts = np.arange(q.shape[1]).reshape(-1, per_class)
        radius = np.empty(X.shape[0])
        for label in np.unique(predicted):
            rows = np.flatnonzero(predicted == label)
            own = concepts[label]
            others = np.delete(concepts, label, axis=0).ravel()
            coefficient = self._alpha[:, own, None] - self._alpha[:, None, others]
            offset = self._beta[own, None] - self._beta[None, others]
            with np.errstate(divide="ignore"):
                log_pos = np.log(np.maximum(coefficient, 0.0))
                log_neg = np.log(np.maximum(-coefficient, 0.0))
            block = max(1, _RADIUS_BLOCK // max(1, coefficient.size))
            for start in range(0, rows.shape[0], block):
                chunk = rows[start : start + block]
                log_d = log_detection[chunk][:, :, None, None]
                with np.errstate(divide="ignore"):
                    log_a = logsumexp(log_d + log_pos[None], axis=1)
                    log_n = logsumexp(log_d + log_neg[None], axis=1)
                pair_radius = self.sigma_ * _log_flip_factor(log_a, log_n, offset)
                # The prediction stands if, for every rival concept, some own
                # concept stays ahead of it.
                radius[chunk] = pair_radius.max(axis=1).min(axis=1)
        return np.maximum(radius, 0.0)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_label = False
        tags.target_tags.multi_output = False
        return tags
