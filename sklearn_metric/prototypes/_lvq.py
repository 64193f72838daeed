"""Shared machinery of the GLVQ family: parameters, initialisation, solvers."""

import time
from contextlib import nullcontext
from numbers import Integral, Real

import numpy as np
from scipy.optimize import minimize
from sklearn.base import BaseEstimator, _fit_context
from sklearn.cluster import KMeans
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions
from sklearn.utils.validation import validate_data

from .._kernels._threads import single_threaded_blas
from ._base import (
    PrototypeClassifierMixin,
    check_class_targets,
    check_class_weights,
    class_min_distances,
)
from ._kernels._lvq import IDENTITY, SIGMOID, SWISH, glvq_terms

#: Multiply-adds of one scatter product above which BLAS may use threads.
_BLAS_THREADS_FROM = 10**9

_ACTIVATIONS = {"identity": IDENTITY, "sigmoid": SIGMOID, "swish": SWISH}


def _shared_constraints():
    return {
        "prototypes_per_class": [Interval(Integral, 1, None, closed="left"), dict],
        "initial_prototypes": [StrOptions({"class-mean", "kmeans"}), "array-like"],
        "activation": [StrOptions(set(_ACTIVATIONS))],
        "beta": [Interval(Real, 0, None, closed="neither")],
        "metric": [StrOptions({"sqeuclidean", "euclidean"}), HasMethods("transform")],
        "solver": [StrOptions({"lbfgs", "sgd", "adam"})],
        "learning_rate": [Interval(Real, 0, None, closed="neither")],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    }


class _BaseLVQ(PrototypeClassifierMixin, BaseEstimator):
    """Prototypes trained by minimising a cost of the relative distance.

    Subclasses define the distance through three hooks: ``_init_relevance``
    (the parameters of the adaptive metric, a flat array), ``_distances``
    and ``_metric_gradients``. This class holds what the variants share: the
    targets, the initial prototypes, the cost and the solvers.
    """

    _parameter_constraints: dict = _shared_constraints()

    # -- hooks -------------------------------------------------------------
    def _init_relevance(self, Z, random_state):
        return np.empty(0)

    def _set_relevance(self, params, n_features):
        """Store the fitted metric attributes from the relevance parameters."""

    def _distances(self, X, prototypes, params):
        """Squared adaptive distances, (n_samples, n_prototypes)."""
        return squared_distances(X, prototypes)

    def _metric_gradients(self, X, prototypes, params, winners, coef):
        """Gradients of the cost with respect to prototypes and parameters.

        ``coef[i, s]`` is the derivative of the cost of sample ``i`` with
        respect to its squared distance to prototype ``winners[i, s]``.
        """
        C = winner_matrix(prototypes.shape[0], winners, coef)
        return _prototype_pull(X, prototypes, C, None), np.empty(0)

    def _regularization_term(self, params):
        return 0.0, np.zeros_like(params)

    # -- fitting -----------------------------------------------------------
    def _validate_input_metric(self, X, fitting):
        if isinstance(self.metric, str):
            return X
        # A fitted metric learner: the model lives in its embedding.
        return np.asarray(self.metric.transform(X), dtype=np.float64)

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Train the prototypes (and the metric, for the adaptive variants).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data.
        y : array-like of shape (n_samples,)
            Class labels.
        sample_weight : array-like of shape (n_samples,), default=None
            Weight of every sample's cost; ``None`` gives every sample 1.

        Returns
        -------
        self : object
            The fitted classifier.
        """
        X, y = validate_data(self, X, y, dtype=[np.float64, np.float32])
        per_class = self._per_class(y)
        y_enc = check_class_targets(self, y, min_per_class=1)
        counts = np.bincount(y_enc)
        per_class = np.array([per_class.get(c, 1) for c in self.classes_])
        if np.any(per_class > counts):
            bad = int(np.argmax(per_class > counts))
            raise ValueError(
                f"prototypes_per_class asks for {per_class[bad]} prototypes of "
                f"class {self.classes_[bad]!r}, which has only {counts[bad]} "
                "samples."
            )
        sample_weight = check_class_weights(self, sample_weight, X, y_enc)
        sample_weight = sample_weight / sample_weight.sum()
        Z = self._validate_input_metric(X.astype(np.float64, copy=False), True)
        random_state = check_random_state(self.random_state)
        prototypes, labels = self._initial_prototypes(
            Z, y_enc, per_class, sample_weight, random_state
        )
        self._shape = prototypes.shape
        self._labels = labels
        params = self._init_relevance(Z, random_state)
        theta = np.concatenate([prototypes.ravel(), params.ravel()])
        start = time.perf_counter()
        # Every evaluation is a few small matrix products, for which BLAS
        # threads cost more than they bring (ten times the time of one
        # thread on digits when the other core is busy).
        work = Z.shape[0] * Z.shape[1] * max(Z.shape[1], prototypes.shape[0])
        blas = single_threaded_blas() if work < _BLAS_THREADS_FROM else nullcontext()
        with blas:
            if self.solver == "lbfgs":
                theta, self.n_iter_ = self._fit_lbfgs(theta, Z, y_enc, sample_weight)
            else:
                theta, self.n_iter_ = self._fit_stochastic(
                    theta, Z, y_enc, sample_weight, random_state
                )
        if self.verbose:
            print(
                f"[{type(self).__name__}] fitted in {time.perf_counter() - start:.2f}"
                f" s, {self.n_iter_} iterations"
            )
        prototypes, params = self._unpack(theta)
        self.prototypes_ = prototypes.astype(X.dtype, copy=False)
        self.prototype_labels_ = self.classes_[labels]
        self._relevance_params = params
        self._set_relevance(params, Z.shape[1])
        return self

    def _per_class(self, y):
        if isinstance(self.prototypes_per_class, dict):
            for value in self.prototypes_per_class.values():
                if not isinstance(value, Integral) or value < 1:
                    raise ValueError(
                        "prototypes_per_class values must be positive integers; "
                        f"got {value!r}."
                    )
            unknown = set(self.prototypes_per_class) - set(np.unique(y).tolist())
            if unknown:
                raise ValueError(
                    f"prototypes_per_class names classes not in y: {sorted(unknown)}."
                )
            return dict(self.prototypes_per_class)
        return {c: self.prototypes_per_class for c in np.unique(y).tolist()}

    def _initial_prototypes(self, Z, y, per_class, weight, random_state):
        n_classes = per_class.shape[0]
        labels = np.repeat(np.arange(n_classes), per_class).astype(np.intp)
        if not isinstance(self.initial_prototypes, str):
            prototypes = validate_data(
                self,
                self.initial_prototypes,
                reset=False,
                dtype=np.float64,
                ensure_min_samples=1,
            )
            prototypes = self._validate_input_metric(prototypes, False)
            if prototypes.shape[0] != labels.shape[0]:
                raise ValueError(
                    f"initial_prototypes has {prototypes.shape[0]} rows; "
                    f"prototypes_per_class asks for {labels.shape[0]}."
                )
            return np.array(prototypes, dtype=np.float64), labels
        blocks = []
        for c in range(n_classes):
            members = Z[y == c]
            w = weight[y == c]
            # A class whose weights are all zero starts at its plain mean.
            w = w if w.sum() > 0 else np.ones_like(w)
            mean = np.average(members, axis=0, weights=w)
            k = per_class[c]
            if k == 1:
                blocks.append(mean[None, :])
            elif self.initial_prototypes == "kmeans":
                km = KMeans(n_clusters=k, n_init=3, random_state=random_state)
                blocks.append(km.fit(members, sample_weight=w).cluster_centers_)
            else:
                # Class mean, each copy moved by a small random offset so that
                # the copies can separate.
                spread = members.std(axis=0).mean() or 1.0
                jitter = 0.01 * spread * random_state.standard_normal((k, Z.shape[1]))
                blocks.append(mean + jitter)
        return np.ascontiguousarray(np.vstack(blocks)), labels

    def _unpack(self, theta):
        n = self._shape[0] * self._shape[1]
        return theta[:n].reshape(self._shape), theta[n:]

    def _cost_and_gradient(self, theta, Z, y, weight):
        prototypes, params = self._unpack(theta)
        D = self._distances(Z, prototypes, params)
        squared = self.metric != "euclidean"
        if not squared:
            D = np.sqrt(np.maximum(D, 0.0))
        n = Z.shape[0]
        winners = np.empty((n, 2), dtype=np.intp)
        coef = np.empty((n, 2))
        cost = np.empty(n)
        glvq_terms(
            D,
            y,
            self._labels,
            weight,
            _ACTIVATIONS[self.activation],
            float(self.beta),
            winners,
            coef,
            cost,
        )
        if not squared:
            # d = sqrt(q): dd/dq = 1 / (2 d).
            picked = np.take_along_axis(D, winners, axis=1)
            coef = coef / (2.0 * np.maximum(picked, 1e-12))
        g_proto, g_params = self._metric_gradients(Z, prototypes, params, winners, coef)
        value = float(cost.sum())
        reg_value, reg_grad = self._regularization_term(params)
        value += reg_value
        g_params = g_params + reg_grad
        return value, np.concatenate([g_proto.ravel(), g_params.ravel()])

    def _fit_lbfgs(self, theta, Z, y, weight):
        result = minimize(
            self._cost_and_gradient,
            theta,
            args=(Z, y, weight),
            jac=True,
            method="L-BFGS-B",
            options={"maxiter": self.max_iter, "gtol": self.tol, "ftol": self.tol},
        )
        if self.verbose:
            print(
                f"[{type(self).__name__}] L-BFGS: {result.message}, "
                f"cost {result.fun:.6g}"
            )
        if result.status == 1:
            import warnings

            warnings.warn(
                f"{type(self).__name__} did not converge in max_iter="
                f"{self.max_iter} iterations; increase max_iter.",
                ConvergenceWarning,
                stacklevel=3,
            )
        return result.x, int(result.nit)

    def _fit_stochastic(self, theta, Z, y, weight, random_state):
        n = Z.shape[0]
        batch = min(self.batch_size, n)
        m = np.zeros_like(theta)
        v = np.zeros_like(theta)
        beta1, beta2, eps = 0.9, 0.999, 1e-8
        step = 0
        previous = np.inf
        for epoch in range(1, self.max_iter + 1):
            order = random_state.permutation(n)
            for start in range(0, n, batch):
                rows = order[start : start + batch]
                w = weight[rows]
                w = (
                    w / w.sum()
                    if w.sum() > 0
                    else np.full(rows.shape[0], 1 / rows.shape[0])
                )
                _, grad = self._cost_and_gradient(theta, Z[rows], y[rows], w)
                step += 1
                if self.solver == "adam":
                    m = beta1 * m + (1 - beta1) * grad
                    v = beta2 * v + (1 - beta2) * grad * grad
                    m_hat = m / (1 - beta1**step)
                    v_hat = v / (1 - beta2**step)
                    theta = theta - self.learning_rate * m_hat / (np.sqrt(v_hat) + eps)
                else:
                    # sgd: a step size that decays as 1 / (1 + t / n_batches).
                    n_batches = -(-n // batch)
                    rate = self.learning_rate / (1.0 + (step - 1) / n_batches)
                    theta = theta - rate * grad
            value, _ = self._cost_and_gradient(theta, Z, y, weight)
            if self.verbose:
                print(f"[{type(self).__name__}] epoch {epoch}: cost {value:.6g}")
            if abs(previous - value) <= self.tol * max(abs(value), 1e-12):
                return theta, epoch
            previous = value
        import warnings

        warnings.warn(
            f"{type(self).__name__} did not converge in max_iter={self.max_iter} "
            "epochs; increase max_iter.",
            ConvergenceWarning,
            stacklevel=3,
        )
        return theta, self.max_iter

    # -- prediction --------------------------------------------------------
    def _query_distances(self, X):
        Z = self._validate_input_metric(X.astype(np.float64, copy=False), False)
        D = self._distances(
            Z, self.prototypes_.astype(np.float64), self._relevance_params
        )
        if self.metric == "euclidean":
            D = np.sqrt(np.maximum(D, 0.0))
        return D

    def _class_scores(self, X):
        D = self._query_distances(X)
        labels = np.searchsorted(self.classes_, self.prototype_labels_)
        return -class_min_distances(D, labels, self.classes_.shape[0])

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = False
        return tags


def winner_matrix(n_prototypes, winners, coef):
    """The coefficients as a dense matrix ``C[i, k]`` (two entries a row)."""
    C = np.zeros((winners.shape[0], n_prototypes))
    rows = np.arange(winners.shape[0])
    C[rows, winners[:, 0]] += coef[:, 0]
    C[rows, winners[:, 1]] += coef[:, 1]
    return C


def _prototype_pull(X, prototypes, C, metric_matrix):
    """Gradient of the cost with respect to the prototypes.

    ``d(x, w) = (x - w)' L (x - w)`` has gradient ``-2 L (x - w)`` in ``w``;
    the cost gradient of prototype ``k`` is ``-2 L sum_i C_ik (x_i - w_k)``.
    ``metric_matrix`` is ``L`` (``None`` for the identity, a vector for a
    diagonal).
    """
    pull = C.T @ X - C.sum(axis=0)[:, None] * prototypes
    if metric_matrix is None:
        return -2.0 * pull
    if metric_matrix.ndim == 1:
        return -2.0 * pull * metric_matrix
    return -2.0 * pull @ metric_matrix


def _weighted_scatter(X, prototypes, C):
    """``S = sum_i sum_k C_ik (x_i - w_k)(x_i - w_k)'``.

    Expanded as ``X' diag(r) X - X' C W - W' C' X + W' diag(s) W`` with ``r``
    and ``s`` the row and column sums of ``C``: one product of the size of
    the data, the rest of the size of the prototypes.
    """
    r = C.sum(axis=1)
    s = C.sum(axis=0)
    XCW = X.T @ (C @ prototypes)
    return (
        X.T @ (r[:, None] * X) - XCW - XCW.T + prototypes.T @ (s[:, None] * prototypes)
    )


def squared_distances(A, B):
    """Squared Euclidean distances between the rows of ``A`` and ``B``.

    Through one matrix product, ``|a|^2 + |b|^2 - 2 a.b``, clipped at 0: the
    cancellation for nearly equal rows costs accuracy only where the cost's
    derivatives do not depend on it (a sample on its prototype).
    """
    D = A @ B.T
    D *= -2.0
    D += np.einsum("ij,ij->i", A, A)[:, None]
    D += np.einsum("ij,ij->i", B, B)[None, :]
    return np.maximum(D, 0.0, out=D)
