"""Numba kernels of the relative-comparison learners, LSML and SCML.

Both learners see their constraints as rows of an index array into one data
array, so no kernel here ever builds a ``(n_tuples, tuple_size, n_features)``
array:

* LSML evaluates its loss on the embedded data ``Z = X L'``: one pass over the
  quadruplets gives the loss and, for each of its two pairs, the coefficient
  of the pair's outer product in the gradient; a second pass scatters those
  coefficients into ``W X`` (``W`` the weighted Laplacian of the pairs), after
  which the gradient is the single product ``Z' W X``.
* SCML works in the basis space ``XB = X B'``, where a triplet's distance
  difference along basis ``k`` costs O(1), so a stochastic step over a batch
  of triplets costs O(batch_size * n_basis). Its full objective needs only the
  distances of the distinct pairs in the triplets, along the active bases.
* The local LDA bases of SCML need, for each neighbourhood, its rows centred
  on their class means and the scaled class-mean offsets; one parallel pass
  writes both, and the scatter matrices are then BLAS products.

Every sum is accumulated in float64, also for float32 input. Each kernel has a
NumPy twin in the tests.
"""

import math

import numpy as np
from numba import njit, prange

#: Keeps AdaGrad's step finite while a basis has seen no gradient (the value
#: of Shi et al.'s reference code).
ADAGRAD_DELTA = 1e-3

# Columns of the output handled by one task of the parallel scatter: every task
# owns whole columns, so no two threads ever write the same entry.
_COLUMN_BLOCK = 8


# ----------------------------------------------------------------------- LSML


@njit(cache=True)
def _row_sqdistance(Z, i, j):
    acc = 0.0
    for k in range(Z.shape[1]):
        diff = np.float64(Z[i, k]) - np.float64(Z[j, k])
        acc += diff * diff
    return acc


@njit(parallel=True, cache=True)
def lsml_loss_coefficients(Z, quadruplets, weights, coefficients):
    """LSML's comparison loss and its gradient coefficients.

    For quadruplet ``(a, b, c, d)`` with embedded distances
    ``d_ab = ||Z[a] - Z[b]||`` and ``d_cd = ||Z[c] - Z[d]||``, the loss is
    ``w * (d_ab - d_cd)**2`` when ``d_ab > d_cd`` and zero otherwise. Its
    gradient with respect to ``L`` (where ``Z = X L'``) is
    ``c_ab (z_a - z_b)(x_a - x_b)' + c_cd (z_c - z_d)(x_c - x_d)'``.

    Parameters
    ----------
    Z : ndarray of shape (n_rows, n_components), float32 or float64
        Embedded rows.
    quadruplets : ndarray of shape (n_quadruplets, 4), intp
        Row indices.
    weights : ndarray of shape (n_quadruplets,), float64
        Weight of each quadruplet.
    coefficients : ndarray of shape (n_quadruplets, 2), float64
        Output: ``c_ab`` and ``c_cd`` (zero for satisfied quadruplets, and
        ``c_cd`` zero when ``d_cd = 0``, where ``x_c - x_d`` vanishes in the
        embedding and contributes nothing).

    Returns
    -------
    loss : float
        The weighted sum of squared violations.
    """
    loss = 0.0
    for q in prange(quadruplets.shape[0]):
        d_ab = math.sqrt(_row_sqdistance(Z, quadruplets[q, 0], quadruplets[q, 1]))
        d_cd = math.sqrt(_row_sqdistance(Z, quadruplets[q, 2], quadruplets[q, 3]))
        coef_ab = 0.0
        coef_cd = 0.0
        if d_ab > d_cd:
            residual = d_ab - d_cd
            loss += weights[q] * residual * residual
            coef_ab = 2.0 * weights[q] * residual / d_ab
            if d_cd > 0.0:
                coef_cd = -2.0 * weights[q] * residual / d_cd
        coefficients[q, 0] = coef_ab
        coefficients[q, 1] = coef_cd
    return loss


@njit(parallel=True, cache=True)
def quadruplet_laplacian_product(X, quadruplets, coefficients, out):
    """Accumulate ``W X`` for the pairs of quadruplets, ``W`` their Laplacian.

    Pair ``(a, b)`` with coefficient ``c`` adds ``c (x_a - x_b)`` to
    ``out[a]`` and ``c (x_b - x_a)`` to ``out[b]``; the pairs are ``(a, b)``
    with ``coefficients[:, 0]`` and ``(c, d)`` with ``coefficients[:, 1]``.

    Parameters
    ----------
    X : ndarray of shape (n_rows, n_features), float32 or float64
        Rows.
    quadruplets : ndarray of shape (n_quadruplets, 4), intp
        Row indices.
    coefficients : ndarray of shape (n_quadruplets, 2), float64
        Pair coefficients, as returned by :func:`lsml_loss_coefficients`.
    out : ndarray of shape (n_rows, n_features), float64
        Zeroed on entry; receives ``W X``.
    """
    n_features = X.shape[1]
    n_blocks = (n_features + _COLUMN_BLOCK - 1) // _COLUMN_BLOCK
    for block in prange(n_blocks):
        start = block * _COLUMN_BLOCK
        stop = min(start + _COLUMN_BLOCK, n_features)
        for q in range(quadruplets.shape[0]):
            for pair in range(2):
                coef = coefficients[q, pair]
                if coef == 0.0:
                    continue
                first = quadruplets[q, 2 * pair]
                second = quadruplets[q, 2 * pair + 1]
                for k in range(start, stop):
                    diff = coef * (np.float64(X[first, k]) - np.float64(X[second, k]))
                    out[first, k] += diff
                    out[second, k] -= diff


# ----------------------------------------------------------------------- SCML


@njit(cache=True, error_model="numpy")
def scml_batch_subgradient(XB, triplets, batch, w, grad, delta):
    """Subgradient of SCML's hinge loss averaged over a batch of triplets.

    Triplet ``(i, j, l)`` has distance differences
    ``delta_k = (XB[i, k] - XB[j, k])**2 - (XB[i, k] - XB[l, k])**2`` and loss
    ``max(0, 1 + delta . w)``; its subgradient is ``delta`` where the slack
    ``1 + delta . w`` is positive and zero elsewhere.

    Parameters
    ----------
    XB : ndarray of shape (n_rows, n_basis), float32 or float64
        Rows projected on the bases.
    triplets : ndarray of shape (n_triplets, 3), intp
        ``(anchor, genuine, impostor)`` row indices.
    batch : ndarray of shape (batch_size,), intp
        Triplets in the batch (repeats allowed).
    w : ndarray of shape (n_basis,), float64
        Basis weights.
    grad : ndarray of shape (n_basis,), float64
        Output: the mean of the subgradients over the batch.
    delta : ndarray of shape (n_basis,), float64
        Scratch space.

    Returns
    -------
    n_violated : int
        Triplets of the batch with positive slack.
    """
    n_basis = XB.shape[1]
    grad[:] = 0.0
    n_violated = 0
    for b in range(batch.shape[0]):
        t = batch[b]
        anchor = XB[triplets[t, 0]]
        genuine = XB[triplets[t, 1]]
        impostor = XB[triplets[t, 2]]
        # Element-wise into a buffer, then one dot product: a running sum in
        # the loop would chain every addition and stop vectorisation.
        for k in range(n_basis):
            to_genuine = np.float64(anchor[k]) - np.float64(genuine[k])
            to_impostor = np.float64(anchor[k]) - np.float64(impostor[k])
            delta[k] = to_genuine * to_genuine - to_impostor * to_impostor
        if 1.0 + np.dot(delta, w) > 0.0:
            n_violated += 1
            for k in range(n_basis):
                grad[k] += delta[k]
    scale = 1.0 / batch.shape[0]
    for k in range(n_basis):
        grad[k] *= scale
    return n_violated


@njit(cache=True, error_model="numpy")
def scml_dual_averaging(XB, triplets, batches, first_iteration, beta, gamma,
                        grad_sum, grad_sq_sum, w):
    """Run iterations of regularised dual averaging with AdaGrad steps.

    Iteration ``t`` (counted from 0) takes the batch subgradient ``g_t`` at
    the current ``w``, adds it to ``grad_sum`` and its square to
    ``grad_sq_sum``, and sets, for every basis ``k``, the closed-form minimiser
    of the averaged linear model plus ``beta |w|_1`` plus AdaGrad's proximal
    term, restricted to ``w >= 0``::

        w_k = max(0, -(grad_sum_k + beta (t + 1)))
              / (gamma (delta + sqrt(grad_sq_sum_k)))

    Parameters
    ----------
    XB : ndarray of shape (n_rows, n_basis), float32 or float64
        Rows projected on the bases.
    triplets : ndarray of shape (n_triplets, 3), intp
        ``(anchor, genuine, impostor)`` row indices.
    batches : ndarray of shape (n_iterations, batch_size), intp
        The triplets drawn for each iteration to run.
    first_iteration : int
        Number of iterations already run before these.
    beta, gamma : float
        L1 strength and the inverse step scale.
    grad_sum, grad_sq_sum, w : ndarray of shape (n_basis,), float64
        The solver's state, updated in place.
    """
    n_basis = XB.shape[1]
    grad = np.empty(n_basis)
    delta = np.empty(n_basis)
    # 1 / (gamma (delta + sqrt(grad_sq_sum))): changes only with a violation.
    inverse_step = np.empty(n_basis)
    for k in range(n_basis):
        inverse_step[k] = 1.0 / (gamma * (ADAGRAD_DELTA + math.sqrt(grad_sq_sum[k])))
    for s in range(batches.shape[0]):
        n_seen = first_iteration + s + 1
        n_violated = scml_batch_subgradient(XB, triplets, batches[s], w, grad, delta)
        if n_violated > 0:
            for k in range(n_basis):
                grad_sum[k] += grad[k]
                grad_sq_sum[k] += grad[k] * grad[k]
                inverse_step[k] = 1.0 / (
                    gamma * (ADAGRAD_DELTA + math.sqrt(grad_sq_sum[k])))
        shift = beta * n_seen
        for k in range(n_basis):
            w[k] = max(-(grad_sum[k] + shift), 0.0) * inverse_step[k]


@njit(parallel=True, cache=True)
def pair_sqdistances(Z, pairs, out):
    """Squared Euclidean distances between the rows of ``Z`` in each pair.

    Parameters
    ----------
    Z : ndarray of shape (n_rows, n_components), float32 or float64
        Embedded rows.
    pairs : ndarray of shape (n_pairs, 2), intp
        Row indices.
    out : ndarray of shape (n_pairs,), float64
        Output.
    """
    for p in prange(pairs.shape[0]):
        out[p] = _row_sqdistance(Z, pairs[p, 0], pairs[p, 1])


@njit(parallel=True, cache=True)
def centre_neighbourhoods(X, neighbourhoods, class_starts, centred, between):
    """Centre every neighbourhood on its class means, for local LDA.

    Each row of ``neighbourhoods`` lists the members of one neighbourhood
    grouped by class: class ``c`` occupies columns
    ``class_starts[c]:class_starts[c + 1]`` (the same for every row).

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features), float32 or float64
        Data.
    neighbourhoods : ndarray of shape (n_sets, n_members), intp
        Row indices of the members.
    class_starts : ndarray of shape (n_classes + 1,), intp
        Column where each class's members begin, and the total.
    centred : ndarray of shape (n_sets, n_members, n_features), float64
        Output: each member minus the mean of its class in its neighbourhood,
        so ``centred[s].T @ centred[s]`` is the within-class scatter.
    between : ndarray of shape (n_sets, n_features, n_classes), float64
        Output: column ``c`` is ``sqrt(n_c) (mean_c - mean)``, so
        ``between[s] @ between[s].T`` is the between-class scatter.
    """
    n_features = X.shape[1]
    n_classes = class_starts.shape[0] - 1
    n_members = neighbourhoods.shape[1]
    for s in prange(neighbourhoods.shape[0]):
        overall = np.zeros(n_features)
        means = np.zeros((n_classes, n_features))
        for c in range(n_classes):
            for m in range(class_starts[c], class_starts[c + 1]):
                row = neighbourhoods[s, m]
                for k in range(n_features):
                    means[c, k] += np.float64(X[row, k])
            count = class_starts[c + 1] - class_starts[c]
            for k in range(n_features):
                overall[k] += means[c, k]
                means[c, k] /= count
        for k in range(n_features):
            overall[k] /= n_members
        for c in range(n_classes):
            scale = math.sqrt(class_starts[c + 1] - class_starts[c])
            for k in range(n_features):
                between[s, k, c] = scale * (means[c, k] - overall[k])
            for m in range(class_starts[c], class_starts[c + 1]):
                row = neighbourhoods[s, m]
                for k in range(n_features):
                    centred[s, m, k] = np.float64(X[row, k]) - means[c, k]
