"""Generalized learning vector quantization (GLVQ) and its relevance variants."""

from numbers import Integral, Real

import numpy as np
from sklearn.base import ClassNamePrefixFeaturesOutMixin, TransformerMixin
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted, validate_data

from ..utils._params import store_params
from ._lvq import (
    _BaseLVQ,
    _prototype_pull,
    _weighted_scatter,
    squared_distances,
    winner_matrix,
)

_SHARED_PARAMETERS = """prototypes_per_class : int or dict, default=1
        Prototypes of each class, or a dict ``{label: count}`` (classes not
        named get one).
    initial_prototypes : {"class-mean", "kmeans"} or array-like of shape \
(n_prototypes, n_features), default="class-mean"
        Where the prototypes start: at the class means (copies of one class
        are moved apart by a small random offset), at the k-means centres of
        each class, or at the given rows, ordered class after class as in
        ``classes_``.
    activation : {"sigmoid", "identity", "swish"}, default="sigmoid"
        The function ``f`` of the relative distance
        ``mu = (d+ - d-) / (d+ + d-)`` whose sum is minimised:
        ``1 / (1 + exp(-beta mu))``, ``mu`` itself, or
        ``mu / (1 + exp(-beta mu))``.
    beta : float, default=5.0
        Steepness of the sigmoid and swish activations.
    metric : {"sqeuclidean", "euclidean"} or fitted metric learner, \
default="sqeuclidean"
        The distance ``d``: the squared distance (the usual choice), its
        square root, or a fitted learner with ``transform`` (such as any
        learner of :mod:`sklearn_metric.metric_learning`), in whose
        embedding the model is trained with the squared distance; the
        prototypes then live in that embedding."""

_SOLVER_PARAMETERS = """solver : {"lbfgs", "sgd", "adam"}, default="lbfgs"
        ``"lbfgs"`` minimises the full cost with L-BFGS; ``"sgd"`` runs
        mini-batch gradient steps of size ``learning_rate / (1 + t / b)``
        after ``t`` steps, ``b`` batches an epoch; ``"adam"`` runs mini-batch
        Adam steps.
    learning_rate : float, default=0.01
        Initial step of ``"sgd"`` and step of ``"adam"``.
    batch_size : int, default=32
        Samples per step of ``"sgd"`` and ``"adam"``.
    max_iter : int, default=500
        Iterations of L-BFGS, or epochs of the stochastic solvers.
    tol : float, default=1e-6
        L-BFGS stops when the largest gradient entry is below ``tol``; the
        stochastic solvers when an epoch changes the cost by less than
        ``tol`` relative.
    random_state : int, RandomState instance or None, default=None
        Seed of the initial offsets, of k-means and of the batches.
    verbose : int, default=0
        Print the solver's progress."""

_SHARED_ATTRIBUTES = """classes_ : ndarray of shape (n_classes,)
        Class labels.
    prototypes_ : ndarray of shape (n_prototypes, n_features)
        The trained prototypes, class after class (in the embedding of
        ``metric`` when it is a learner).
    prototype_labels_ : ndarray of shape (n_prototypes,)
        The class label of every prototype.
    n_iter_ : int
        Iterations (L-BFGS) or epochs (stochastic solvers) run.
    n_features_in_ : int
        Number of features seen during :term:`fit`.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during :term:`fit`, when X has string column
        names."""

_PROBA_NOTE = """``predict_proba`` is a softmax over the negated distance from the
    sample to the nearest prototype of each class; it orders the classes as
    ``predict`` does, but is not calibrated (use
    :class:`~sklearn.calibration.CalibratedClassifierCV` for calibrated
    probabilities)."""


def _lvq_doc(cls):
    cls.__doc__ = cls.__doc__.format(
        shared=_SHARED_PARAMETERS,
        solver=_SOLVER_PARAMETERS,
        attributes=_SHARED_ATTRIBUTES,
        proba=_PROBA_NOTE,
    )
    return cls


class _LVQInit(_BaseLVQ):
    def __init__(
        self,
        prototypes_per_class=1,
        *,
        initial_prototypes="class-mean",
        activation="sigmoid",
        beta=5.0,
        metric="sqeuclidean",
        solver="lbfgs",
        learning_rate=0.01,
        batch_size=32,
        max_iter=500,
        tol=1e-6,
        random_state=None,
        verbose=0,
    ):
        store_params(self, locals())


@_lvq_doc
class GLVQ(_LVQInit):
    """Generalized learning vector quantization.

    Labelled prototypes are trained so that every training sample is closer
    to the nearest prototype of its class (distance ``d+``) than to the
    nearest prototype of any other class (``d-``): the cost is the sum over
    the samples of ``f(mu)`` with ``mu = (d+ - d-) / (d+ + d-)`` in
    ``[-1, 1]``, negative when the sample is classified correctly (Sato and
    Yamada, 1996). A sample is assigned the class of its nearest prototype.

    Read more in the :ref:`User Guide <prototypes>`.

    Parameters
    ----------
    {shared}
    {solver}

    Attributes
    ----------
    {attributes}

    See Also
    --------
    GMLVQ : GLVQ with a learned full relevance matrix.
    GRLVQ : GLVQ with a learned relevance per feature.

    Notes
    -----
    {proba}

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sklearn_metric.prototypes import GLVQ
    >>> X, y = load_iris(return_X_y=True)
    >>> clf = GLVQ(random_state=0).fit(X, y)
    >>> clf.prototypes_.shape
    (3, 4)
    >>> round(clf.score(X, y), 2)
    0.97
    """


@_lvq_doc
class GRLVQ(_LVQInit):
    """Generalized relevance learning vector quantization.

    GLVQ with the squared distance ``sum_j lambda_j (x_j - w_j)^2``, whose
    non-negative feature relevances ``lambda`` (summing to one) are learned
    with the prototypes (Hammer and Villmann, 2002).

    Read more in the :ref:`User Guide <prototypes>`.

    Parameters
    ----------
    {shared}
    {solver}

    Attributes
    ----------
    {attributes}
    lambda_ : ndarray of shape (n_features,)
        The relevance of every feature; non-negative, summing to one.
    feature_relevances_ : ndarray of shape (n_features,)
        The same as ``lambda_``, under the name all relevance variants share.

    See Also
    --------
    GLVQ : Without relevances.
    GMLVQ : A full relevance matrix.

    Notes
    -----
    {proba}

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_metric.prototypes import GRLVQ
    >>> rng = np.random.RandomState(0)
    >>> X = rng.randn(200, 3)
    >>> y = (X[:, 1] > 0).astype(int)
    >>> clf = GRLVQ(random_state=0).fit(X, y)
    >>> int(np.argmax(clf.feature_relevances_))
    1
    """

    def _init_relevance(self, Z, random_state):
        return np.ones(Z.shape[1])

    def _lambda(self, rho):
        return rho * rho / np.dot(rho, rho)

    def _distances(self, X, prototypes, params):
        scale = np.sqrt(self._lambda(params))
        return squared_distances(X * scale, prototypes * scale)

    def _metric_gradients(self, X, prototypes, params, winners, coef):
        lam = self._lambda(params)
        C = winner_matrix(prototypes.shape[0], winners, coef)
        g_proto = _prototype_pull(X, prototypes, C, lam)
        # The diagonal of the weighted scatter.
        g_lambda = (
            C.sum(axis=1) @ (X * X)
            - 2.0 * np.einsum("ij,ij->j", X, C @ prototypes)
            + C.sum(axis=0) @ (prototypes * prototypes)
        )
        norm = np.dot(params, params)
        g_rho = 2.0 * params / norm * (g_lambda - np.dot(lam, g_lambda))
        return g_proto, g_rho

    def _set_relevance(self, params, n_features):
        self.lambda_ = self._lambda(params)
        self.feature_relevances_ = self.lambda_.copy()


@_lvq_doc
class GMLVQ(ClassNamePrefixFeaturesOutMixin, TransformerMixin, _LVQInit):
    """Generalized matrix learning vector quantization.

    GLVQ with the adaptive squared distance
    ``d(x, w) = (x - w)' Lambda (x - w)``, ``Lambda = Omega' Omega``, whose
    matrix ``Omega`` is learned with the prototypes (Schneider, Biehl and
    Hammer, 2009). ``Lambda`` is normalised to unit trace, which leaves the
    classification unchanged (the cost depends on ratios of distances).
    ``transform`` projects on the leading eigenvectors of ``Lambda``, for
    visualisation.

    Read more in the :ref:`User Guide <prototypes>`.

    Parameters
    ----------
    {shared}
    n_components : int, default=None
        Rows of ``Omega``, that is the largest rank of ``Lambda``; ``None``
        means ``n_features``. A smaller value learns a low-rank metric and
        starts ``Omega`` from the leading principal axes.
    regularization : float, default=0.0
        Weight of ``-log det(Omega Omega')``, which keeps ``Lambda`` from
        collapsing to low rank (Schneider et al., 2010); 0 disables it.
    {solver}

    Attributes
    ----------
    {attributes}
    omega_ : ndarray of shape (n_components, n_features)
        The learned ``Omega``, scaled so that ``Lambda`` has unit trace.
    lambda_ : ndarray of shape (n_features, n_features)
        The relevance matrix ``Omega' Omega``: positive semi-definite, trace 1.
    feature_relevances_ : ndarray of shape (n_features,)
        The diagonal of ``lambda_``: the relevance of every feature on its
        own, summing to one.
    eigenvalues_ : ndarray of shape (n_components,)
        Eigenvalues of ``lambda_``, in decreasing order.
    eigenvectors_ : ndarray of shape (n_components, n_features)
        The matching eigenvectors, one a row.

    See Also
    --------
    GRLVQ : A diagonal relevance matrix.
    LGMLVQ : A relevance matrix per prototype or per class.

    Notes
    -----
    {proba}

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sklearn_metric.prototypes import GMLVQ
    >>> X, y = load_iris(return_X_y=True)
    >>> clf = GMLVQ(random_state=0).fit(X, y)
    >>> round(float(clf.lambda_.trace()), 6)
    1.0
    >>> clf.transform(X).shape
    (150, 4)
    """

    _parameter_constraints: dict = {
        **_BaseLVQ._parameter_constraints,
        "n_components": [Interval(Integral, 1, None, closed="left"), None],
        "regularization": [Interval(Real, 0, None, closed="left")],
    }

    def __init__(
        self,
        prototypes_per_class=1,
        *,
        initial_prototypes="class-mean",
        activation="sigmoid",
        beta=5.0,
        metric="sqeuclidean",
        n_components=None,
        regularization=0.0,
        solver="lbfgs",
        learning_rate=0.01,
        batch_size=32,
        max_iter=500,
        tol=1e-6,
        random_state=None,
        verbose=0,
    ):
        store_params(self, locals())

    def _n_rows(self, n_features):
        if self.n_components is None:
            return n_features
        if self.n_components > n_features:
            raise ValueError(
                f"n_components={self.n_components} must be at most n_features="
                f"{n_features}."
            )
        return self.n_components

    def _init_relevance(self, Z, random_state):
        n_features = Z.shape[1]
        rows = self._n_rows(n_features)
        self._omega_shape = (rows, n_features)
        if rows == n_features:
            omega = np.eye(n_features)
        else:
            centred = Z - Z.mean(axis=0)
            _, _, vt = np.linalg.svd(centred, full_matrices=False)
            omega = vt[:rows]
        return (omega / np.linalg.norm(omega)).ravel()

    def _omega(self, params):
        raw = params.reshape(self._omega_shape)
        return raw / np.linalg.norm(raw), np.linalg.norm(raw)

    def _distances(self, X, prototypes, params):
        omega, _ = self._omega(params)
        return squared_distances(X @ omega.T, prototypes @ omega.T)

    def _metric_gradients(self, X, prototypes, params, winners, coef):
        omega, norm = self._omega(params)
        lam = omega.T @ omega
        C = winner_matrix(prototypes.shape[0], winners, coef)
        g_proto = _prototype_pull(X, prototypes, C, lam)
        g_omega = 2.0 * omega @ _weighted_scatter(X, prototypes, C)
        return g_proto, self._through_normalisation(g_omega, omega, norm)

    @staticmethod
    def _through_normalisation(g_omega, omega, norm):
        # Omega = raw / ||raw||: project out the radial part and rescale.
        return ((g_omega - np.sum(g_omega * omega) * omega) / norm).ravel()

    def _regularization_term(self, params):
        if self.regularization == 0:
            return 0.0, np.zeros_like(params)
        omega, norm = self._omega(params)
        gram = omega @ omega.T
        sign, logdet = np.linalg.slogdet(gram)
        if sign <= 0:
            return np.inf, np.zeros_like(params)
        value = -self.regularization * logdet
        g_omega = -2.0 * self.regularization * np.linalg.solve(gram, omega)
        return value, self._through_normalisation(g_omega, omega, norm)

    def _set_relevance(self, params, n_features):
        omega, _ = self._omega(params)
        self.omega_ = omega
        self.lambda_ = omega.T @ omega
        self.feature_relevances_ = np.diag(self.lambda_).copy()
        values, vectors = np.linalg.eigh(self.lambda_)
        order = np.argsort(values)[::-1][: omega.shape[0]]
        self.eigenvalues_ = np.clip(values[order], 0.0, None)
        vectors = vectors[:, order].T
        # An eigenvector's sign is arbitrary: the entry of largest magnitude
        # is made positive, so that equal models give equal projections.
        largest = np.argmax(np.abs(vectors), axis=1)
        vectors *= np.sign(vectors[np.arange(vectors.shape[0]), largest])[:, None]
        self.eigenvectors_ = vectors
        self._n_features_out = omega.shape[0]

    def transform(self, X):
        """Project on the eigenvectors of ``lambda_``, scaled by their roots.

        Euclidean distances between projected rows equal the learned
        distances, so a scatter plot of the first two columns shows the
        data as the model sees it.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Rows to project.

        Returns
        -------
        X_new : ndarray of shape (n_samples, n_components)
            Coordinates along the eigenvectors, in decreasing order of
            eigenvalue; float32 input gives float32 output.
        """
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, dtype=[np.float64, np.float32])
        Z = self._validate_input_metric(X.astype(np.float64, copy=False), False)
        out = Z @ (self.eigenvectors_.T * np.sqrt(self.eigenvalues_))
        return out.astype(X.dtype, copy=False)

    def fit_transform(self, X, y, sample_weight=None):
        """Fit, then :meth:`transform` the training data.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data.
        y : array-like of shape (n_samples,)
            Class labels.
        sample_weight : array-like of shape (n_samples,), default=None
            Weight of every sample's cost.

        Returns
        -------
        X_new : ndarray of shape (n_samples, n_components)
            The projected training data.
        """
        return self.fit(X, y, sample_weight=sample_weight).transform(X)


@_lvq_doc
class LGMLVQ(_LVQInit):
    """Localized generalized matrix learning vector quantization.

    GMLVQ with a relevance matrix ``Lambda_k = Omega_k' Omega_k`` of its own
    for every prototype (``localization="prototype"``) or every class
    (``"class"``), so that the distance to prototype ``k`` is
    ``(x - w_k)' Lambda_k (x - w_k)`` (Schneider, Biehl and Hammer, 2009).
    Every ``Lambda_k`` has unit trace. The class regions are then bounded by
    quadrics rather than hyperplanes.

    Read more in the :ref:`User Guide <prototypes>`.

    Parameters
    ----------
    {shared}
    localization : {{"prototype", "class"}}, default="prototype"
        One relevance matrix per prototype, or one shared by the prototypes
        of each class.
    {solver}

    Attributes
    ----------
    {attributes}
    omega_ : ndarray of shape (n_matrices, n_features, n_features)
        The learned ``Omega_k``, each scaled so that ``Lambda_k`` has unit
        trace; ``n_matrices`` is the number of prototypes or of classes.
    lambda_ : ndarray of shape (n_matrices, n_features, n_features)
        The local relevance matrices.
    feature_relevances_ : ndarray of shape (n_matrices, n_features)
        Their diagonals.

    See Also
    --------
    GMLVQ : One relevance matrix for every prototype.

    Notes
    -----
    {proba}

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sklearn_metric.prototypes import LGMLVQ
    >>> X, y = load_iris(return_X_y=True)
    >>> clf = LGMLVQ(random_state=0).fit(X, y)
    >>> clf.lambda_.shape
    (3, 4, 4)
    """

    _parameter_constraints: dict = {
        **_BaseLVQ._parameter_constraints,
        "localization": [StrOptions({"prototype", "class"})],
    }

    def __init__(
        self,
        prototypes_per_class=1,
        *,
        initial_prototypes="class-mean",
        activation="sigmoid",
        beta=5.0,
        metric="sqeuclidean",
        localization="prototype",
        solver="lbfgs",
        learning_rate=0.01,
        batch_size=32,
        max_iter=500,
        tol=1e-6,
        random_state=None,
        verbose=0,
    ):
        store_params(self, locals())

    def _matrix_of_prototype(self):
        if self.localization == "class":
            return self._labels
        return np.arange(self._labels.shape[0])

    def _init_relevance(self, Z, random_state):
        n_features = Z.shape[1]
        n_matrices = int(self._matrix_of_prototype().max()) + 1
        self._omega_shape = (n_matrices, n_features, n_features)
        eye = np.eye(n_features) / np.sqrt(n_features)
        return np.tile(eye, (n_matrices, 1, 1)).ravel()

    def _omegas(self, params):
        raw = params.reshape(self._omega_shape)
        norms = np.linalg.norm(raw, axis=(1, 2))
        return raw / norms[:, None, None], norms

    def _distances(self, X, prototypes, params):
        omegas, _ = self._omegas(params)
        owner = self._matrix_of_prototype()
        D = np.empty((X.shape[0], prototypes.shape[0]))
        for k in range(prototypes.shape[0]):
            projected = (X - prototypes[k]) @ omegas[owner[k]].T
            D[:, k] = np.einsum("ij,ij->i", projected, projected)
        return D

    def _metric_gradients(self, X, prototypes, params, winners, coef):
        omegas, norms = self._omegas(params)
        owner = self._matrix_of_prototype()
        g_proto = np.zeros_like(prototypes)
        g_omegas = np.zeros_like(omegas)
        for k in range(prototypes.shape[0]):
            omega = omegas[owner[k]]
            lam = omega.T @ omega
            diffs, weights = [], []
            for s in range(2):
                rows = winners[:, s] == k
                diffs.append(X[rows] - prototypes[k])
                weights.append(coef[rows, s])
            diff = np.concatenate(diffs)
            c = np.concatenate(weights)
            g_proto[k] = -2.0 * lam @ (c @ diff)
            g_omegas[owner[k]] += 2.0 * omega @ (diff.T @ (c[:, None] * diff))
        g = np.empty_like(g_omegas)
        for m in range(omegas.shape[0]):
            g[m] = (g_omegas[m] - np.sum(g_omegas[m] * omegas[m]) * omegas[m]) / norms[
                m
            ]
        return g_proto, g.ravel()

    def _set_relevance(self, params, n_features):
        omegas, _ = self._omegas(params)
        self.omega_ = omegas
        self.lambda_ = np.einsum("mji,mjk->mik", omegas, omegas)
        self.feature_relevances_ = np.einsum("mii->mi", self.lambda_).copy()
