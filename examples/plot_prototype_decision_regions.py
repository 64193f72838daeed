"""
=================================================================
Decision regions of nearest prototypes, soft votes and simplices
=================================================================

Three prototype classifiers that need little or no training, on two moons
with a third, round class beside them:

* :class:`~sklearn_metric.prototypes.NearestPrototypeClassifier` with one
  centre per class is a nearest-centroid rule, whose boundaries are straight;
  with four k-means centres per class the boundaries bend around the moons;
* :class:`~sklearn_metric.prototypes.SoftNearestNeighborClassifier` lets
  every training point vote, weighted by ``exp(-d / T)``, with ``T`` chosen
  by leave-one-out likelihood;
* :class:`~sklearn_metric.prototypes.EquiangularBasisClassifier` maps the
  points linearly towards three fixed directions at 120 degrees from each
  other, so its regions are those of a linear model.

The shading is the probability of the predicted class.
"""

# %%
# Three classes in two dimensions
# -------------------------------
import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import make_blobs, make_moons
from sklearn.model_selection import train_test_split

from sklearn_metric.prototypes import (
    EquiangularBasisClassifier,
    NearestPrototypeClassifier,
    SoftNearestNeighborClassifier,
)

X_moons, y_moons = make_moons(n_samples=300, noise=0.2, random_state=0)
X_blob, _ = make_blobs(
    n_samples=150, centers=[[2.6, 1.4]], cluster_std=0.3, random_state=0
)
X = np.vstack([X_moons, X_blob])
y = np.concatenate([y_moons, np.full(X_blob.shape[0], 2)])
X_train, X_test, y_train, y_test = train_test_split(
    X, y, test_size=0.3, stratify=y, random_state=0
)

models = {
    "nearest centroid": NearestPrototypeClassifier(),
    "4 prototypes per class": NearestPrototypeClassifier(4, random_state=0),
    "soft nearest neighbours": SoftNearestNeighborClassifier(random_state=0),
    "equiangular directions": EquiangularBasisClassifier(random_state=0),
}
for name, model in models.items():
    model.fit(X_train, y_train)
    print(f"{name:>24}: test accuracy {model.score(X_test, y_test):.3f}")
print(f"soft NN temperature: {models['soft nearest neighbours'].temperature_:.3f}")

# %%
# The regions, with the prototypes where there are some
# -----------------------------------------------------
xx, yy = np.meshgrid(np.linspace(-1.8, 3.6, 220), np.linspace(-1.2, 2.4, 150))
grid = np.c_[xx.ravel(), yy.ravel()]
colours = np.array([[0.12, 0.47, 0.71], [1.0, 0.5, 0.05], [0.17, 0.63, 0.17]])

fig, axes = plt.subplots(2, 2, figsize=(9, 6.5), sharex=True, sharey=True)
for ax, (name, model) in zip(axes.ravel(), models.items()):
    proba = model.predict_proba(grid)
    label = proba.argmax(axis=1)
    # Colour of the predicted class, faded towards white where it is unsure.
    strength = (proba.max(axis=1) - 1 / 3) / (2 / 3)
    image = 1 - strength[:, None] * 0.55 * (1 - colours[label])
    ax.imshow(
        image.reshape(*xx.shape, 3),
        origin="lower",
        extent=(xx.min(), xx.max(), yy.min(), yy.max()),
        aspect="auto",
    )
    ax.scatter(*X_train.T, c=colours[y_train], s=8, edgecolor="none")
    if hasattr(model, "prototypes_"):
        ax.scatter(
            *model.prototypes_.T,
            c=colours[np.searchsorted(model.classes_, model.prototype_labels_)],
            marker="*",
            s=260,
            edgecolor="black",
        )
    ax.set_title(f"{name} ({model.score(X_test, y_test):.2f})")
fig.tight_layout()
plt.show()

# %%
# The nearest centroid cannot follow the moons; four prototypes per class
# nearly can, and the soft vote follows them as closely as the data allow.
# The equiangular classifier, linear, separates the round class well but cuts
# the moons with a straight line.
