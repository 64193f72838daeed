"""Robust soft learning vector quantization (RSLVQ)."""

from numbers import Real

import numpy as np
from scipy.special import logsumexp
from sklearn.utils._param_validation import Interval

from ..utils._params import store_params
from ._glvq import _lvq_doc, _LVQInit
from ._lvq import _BaseLVQ


@_lvq_doc
class RSLVQ(_LVQInit):
    """Robust soft learning vector quantization.

    Every prototype ``w_k`` is the centre of a Gaussian of variance
    ``sigma^2`` in every direction, all with the same prior; a class's
    density is the mixture of its prototypes' Gaussians. Training maximises
    the likelihood of the labels, ``sum_i log p(y_i | x_i)`` with
    ``p(c | x) = sum_{{k in c}} exp(-d_k / (2 sigma^2)) /
    sum_k exp(-d_k / (2 sigma^2))`` and ``d_k`` the squared distance to
    ``w_k`` (Seo and Obermayer, 2003). Unlike GLVQ, every prototype moves
    for every sample, in proportion to its posterior.

    Read more in the :ref:`User Guide <prototypes>`.

    Parameters
    ----------
    {shared}
        ``activation`` and ``beta`` are not used: the cost is the negative
        log-likelihood.
    sigma : float, default=1.0
        Standard deviation of the Gaussians, in the units of the features
        (standardise them first). Small values approach a hard
        nearest-prototype rule.
    {solver}

    Attributes
    ----------
    {attributes}

    See Also
    --------
    GLVQ : The margin-based counterpart.

    Notes
    -----
    ``predict_proba`` is the model's posterior ``p(c | x)`` above, and
    ``predict`` its largest entry (with one prototype per class, the class
    of the nearest prototype).

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.preprocessing import StandardScaler
    >>> from sklearn_metric.prototypes import RSLVQ
    >>> X, y = load_iris(return_X_y=True)
    >>> X = StandardScaler().fit_transform(X)
    >>> clf = RSLVQ(random_state=0).fit(X, y)
    >>> clf.predict_proba(X[:1]).sum().round(6)
    np.float64(1.0)
    """

    _parameter_constraints: dict = {
        **_BaseLVQ._parameter_constraints,
        "sigma": [Interval(Real, 0, None, closed="neither")],
    }

    def __init__(
        self,
        prototypes_per_class=1,
        *,
        initial_prototypes="class-mean",
        activation="sigmoid",
        beta=5.0,
        metric="sqeuclidean",
        sigma=1.0,
        solver="lbfgs",
        learning_rate=0.01,
        batch_size=32,
        max_iter=500,
        tol=1e-6,
        random_state=None,
        verbose=0,
    ):
        store_params(self, locals())

    def _log_terms(self, Z, prototypes):
        D = self._distances(Z, prototypes, None)
        if self.metric == "euclidean":
            D = np.sqrt(np.maximum(D, 0.0))
        return -D / (2.0 * self.sigma**2), D

    def _cost_and_gradient(self, theta, Z, y, weight):
        prototypes, _ = self._unpack(theta)
        logits, D = self._log_terms(Z, prototypes)
        correct = self._labels[None, :] == y[:, None]
        log_all = logsumexp(logits, axis=1)
        log_correct = logsumexp(np.where(correct, logits, -np.inf), axis=1)
        value = -float(weight @ (log_correct - log_all))
        # d(-log p(y|x)) / d logit_k = P(k|x) - P_y(k|x) 1[k in y].
        posterior = np.exp(logits - log_all[:, None])
        posterior_y = np.where(correct, np.exp(logits - log_correct[:, None]), 0.0)
        g_logit = weight[:, None] * (posterior - posterior_y)
        if self.metric == "euclidean":
            # logit = -d / (2 s^2) with d = sqrt(q): dlogit/dq = -1/(4 s^2 d).
            g_q = -g_logit / (4.0 * self.sigma**2 * np.maximum(D, 1e-12))
        else:
            g_q = -g_logit / (2.0 * self.sigma**2)
        # dq_k/dw_k = -2 (x - w_k).
        g_proto = -2.0 * (g_q.T @ Z - g_q.sum(axis=0)[:, None] * prototypes)
        return value, g_proto.ravel()

    def _class_proba(self, X):
        Z = self._validate_input_metric(X.astype(np.float64, copy=False), False)
        logits, _ = self._log_terms(Z, self.prototypes_.astype(np.float64))
        labels = np.searchsorted(self.classes_, self.prototype_labels_)
        log_all = logsumexp(logits, axis=1)
        proba = np.zeros((Z.shape[0], self.classes_.shape[0]))
        for c in range(self.classes_.shape[0]):
            proba[:, c] = np.exp(logsumexp(logits[:, labels == c], axis=1) - log_all)
        return proba

    def _class_scores(self, X):
        with np.errstate(divide="ignore"):
            return np.log(self._class_proba(X))
