"""
=========================================================
Two-dimensional embeddings learned by metric learners
=========================================================

A Mahalanobis metric learner fits a linear map ``L``; with ``n_components=2``
the map is a projection of the data onto a plane, chosen so that distances in
the plane serve the learner's goal. This example projects the standardised
digits onto two dimensions with PCA (which ignores the labels) and with four
learners, and reports the 3-nearest-neighbour accuracy on held-out digits in
each plane.

The second figure keeps more dimensions: 3-NN accuracy against
``n_components`` for NCA and LFDA, with the Euclidean distance on all 64
features as the reference line.
"""

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA
from sklearn.model_selection import train_test_split
from sklearn.neighbors import KNeighborsClassifier
from sklearn.preprocessing import StandardScaler

from sklearn_metric.metric_learning import LFDA, LMNN, NCA, RCA_Supervised

X, y = load_digits(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(
    X, y, test_size=0.3, stratify=y, random_state=0
)
scaler = StandardScaler().fit(X_train)
X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)


def knn_accuracy(transformer):
    """3-NN test accuracy in the space the transformer maps to."""
    knn = KNeighborsClassifier(3).fit(transformer.transform(X_train), y_train)
    return knn.score(transformer.transform(X_test), y_test)


# %%
# Projections onto a plane
# ------------------------
projections = {
    "PCA (no labels)": PCA(n_components=2, random_state=0),
    "NCA": NCA(n_components=2, max_iter=100, random_state=0),
    "LMNN": LMNN(n_components=2, n_neighbors=3, random_state=0),
    "LFDA": LFDA(n_components=2),
    "RCA_Supervised": RCA_Supervised(n_components=2, random_state=0),
}

fig, axes = plt.subplots(1, len(projections), figsize=(20, 4.4))
for ax, (name, transformer) in zip(axes, projections.items()):
    transformer.fit(X_train, y_train)
    embedded = transformer.transform(X_test)
    scatter = ax.scatter(
        embedded[:, 0], embedded[:, 1], c=y_test, cmap="tab10", s=8, vmin=-0.5, vmax=9.5
    )
    ax.set_title(f"{name}\n3-NN accuracy {knn_accuracy(transformer):.3f}")
    # A few held-out digits use pixels that (almost) never light up in the
    # training set and land far out; frame the bulk of the points.
    low, high = np.percentile(embedded, [1, 99], axis=0)
    margin = 0.1 * (high - low)
    ax.set_xlim(low[0] - margin[0], high[0] + margin[0])
    ax.set_ylim(low[1] - margin[1], high[1] + margin[1])
    ax.set_xticks([])
    ax.set_yticks([])
fig.colorbar(scatter, ax=axes, ticks=range(10), label="digit", fraction=0.015)
fig.suptitle("Held-out digits projected onto two learned dimensions")
fig.subplots_adjust(top=0.8)

# %%
# Accuracy against the number of components
# -----------------------------------------
# A handful of learned dimensions already match the Euclidean distance on all
# 64 features; LFDA needs no iterations, NCA optimises the neighbour rule itself.
euclidean = KNeighborsClassifier(3).fit(X_train, y_train).score(X_test, y_test)
dimensions = [2, 4, 8, 16, 32]
curves = {
    "NCA": [
        knn_accuracy(
            NCA(n_components=k, max_iter=100, random_state=0).fit(X_train, y_train)
        )
        for k in dimensions
    ],
    "LFDA": [
        knn_accuracy(LFDA(n_components=k, embedding_type="plain").fit(X_train, y_train))
        for k in dimensions
    ],
}

fig, ax = plt.subplots(figsize=(6, 4))
for name, accuracies in curves.items():
    ax.plot(dimensions, accuracies, marker="o", label=name)
ax.axhline(
    euclidean,
    color="grey",
    linestyle="--",
    label=f"Euclidean, 64 features ({euclidean:.3f})",
)
ax.set_xscale("log", base=2)
ax.set_xticks(dimensions, [str(k) for k in dimensions])
ax.set_xlabel("n_components")
ax.set_ylabel("3-NN test accuracy")
ax.set_ylim(min(np.min(v) for v in curves.values()) - 0.02, 1.0)
ax.legend(loc="lower right")
ax.set_title("Digits: accuracy of 3-NN in the learned space")
plt.tight_layout()
plt.show()
