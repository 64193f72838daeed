"""Numba kernels of the GLVQ family: winners and cost terms per sample.

Every GLVQ variant scores a sample ``x`` of class ``y`` by the relative
distance ``mu = (d+ - d-) / (d+ + d-)``, where ``d+`` is the distance to the
nearest prototype of class ``y`` and ``d-`` that to the nearest prototype of
another class, and minimises the sum of ``f(mu)`` over the samples. The
kernel below finds the two winners of every sample and the two coefficients
through which the cost depends on their distances,
``df(mu)/dd+ = f'(mu) 2 d- / (d+ + d-)^2`` and
``df(mu)/dd- = -f'(mu) 2 d+ / (d+ + d-)^2``. The gradients with respect to
the prototypes and the relevances are sums of those coefficients times
differences ``x - w``, which the estimators form with BLAS.
"""

import math

import numpy as np
from numba import njit

#: Codes of the activation functions ``f``.
IDENTITY, SIGMOID, SWISH = 0, 1, 2


@njit(cache=True, inline="always")
def _activation(mu, kind, beta):
    """``(f(mu), f'(mu))`` for the activation ``kind``."""
    if kind == IDENTITY:
        return mu, 1.0
    if beta * mu >= 0.0:
        sig = 1.0 / (1.0 + math.exp(-beta * mu))
    else:
        e = math.exp(beta * mu)
        sig = e / (1.0 + e)
    if kind == SIGMOID:
        return sig, beta * sig * (1.0 - sig)
    # swish: mu * sigmoid(beta mu)
    return mu * sig, sig + beta * mu * sig * (1.0 - sig)


@njit(cache=True)
def glvq_terms(
    D, y, prototype_labels, sample_weight, kind, beta, winners, coefficients, cost
):
    """Winners, cost and cost derivatives of every sample.

    Parameters
    ----------
    D : ndarray of shape (n_samples, n_prototypes), float32 or float64
        Distances from samples to prototypes (squared or not, as the model
        defines them).
    y : ndarray of shape (n_samples,), intp
        Class index of every sample.
    prototype_labels : ndarray of shape (n_prototypes,), intp
        Class index of every prototype; every class has at least one, and
        there are at least two classes.
    sample_weight : ndarray of shape (n_samples,), float64
        Weight of every sample's cost.
    kind : int
        Activation code: ``IDENTITY``, ``SIGMOID`` or ``SWISH``.
    beta : float
        Steepness of the sigmoid and swish activations.
    winners : ndarray of shape (n_samples, 2), intp
        Output: the nearest correct and the nearest wrong prototype.
    coefficients : ndarray of shape (n_samples, 2), float64
        Output: ``weight * df/dd+`` and ``weight * df/dd-``.
    cost : ndarray of shape (n_samples,), float64
        Output: ``weight * f(mu)``.
    """
    n_samples, n_prototypes = D.shape
    # One pass of O(n_samples * n_prototypes): threads would cost more than
    # they save at the sizes LVQ is used for.
    for i in range(n_samples):
        d_plus = np.inf
        d_minus = np.inf
        j_plus = -1
        j_minus = -1
        label = y[i]
        for k in range(n_prototypes):
            d = np.float64(D[i, k])
            if prototype_labels[k] == label:
                if d < d_plus:
                    d_plus = d
                    j_plus = k
            elif d < d_minus:
                d_minus = d
                j_minus = k
        total = d_plus + d_minus
        if total > 0.0:
            mu = (d_plus - d_minus) / total
            dmu_plus = 2.0 * d_minus / (total * total)
            dmu_minus = -2.0 * d_plus / (total * total)
        else:
            # The sample sits on both winners: mu is 0 and, by symmetry, has
            # no preferred direction.
            mu = 0.0
            dmu_plus = 0.0
            dmu_minus = 0.0
        f, slope = _activation(mu, kind, beta)
        w = sample_weight[i]
        winners[i, 0] = j_plus
        winners[i, 1] = j_minus
        coefficients[i, 0] = w * slope * dmu_plus
        coefficients[i, 1] = w * slope * dmu_minus
        cost[i] = w * f
