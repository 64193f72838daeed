"""
=======================================
The k each query gets: adaptive kNN map
=======================================

:class:`sklearn_metric.neighbors.ExpectedAccuracyKNNClassifier` picks ``k``
per query. For every training row it records, for each ``k`` of ``k_range``,
whether the leave-one-out vote of its ``k`` nearest neighbours was right.
A query then takes the ``k`` that was right most often among the training rows
most similar to it (by default its ``n_similar`` nearest neighbours).

This example builds a 2-D problem with two regimes side by side:

* on the left, two interleaved half-moons, dense and clean, where the best
  vote is that of the few nearest neighbours: a large ``k`` would reach across
  the narrow gap into the other moon;
* on the right, two overlapping Gaussian blobs whose labels are 25% noise,
  where only a large vote averages the noise away.

No single ``k`` suits both halves. The map shows the ``k`` each point of the
plane would get, and the last panel compares the test accuracy of the adaptive
model with that of every fixed ``k``.
"""

# %%
# Data
# ----
import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import make_blobs, make_moons
from sklearn.model_selection import train_test_split

from sklearn_metric.neighbors import ExpectedAccuracyKNNClassifier, KNeighborsClassifier

rng = np.random.default_rng(0)
X_moons, y_moons = make_moons(n_samples=300, noise=0.06, random_state=0)
X_moons = X_moons * [0.9, 1.1] + [-2.6, -0.3]
X_blobs, y_blobs = make_blobs(
    n_samples=700, centers=[[1.6, -1.0], [3.6, 1.0]], cluster_std=0.8, random_state=0
)
flip = rng.random(len(y_blobs)) < 0.25
y_blobs = np.where(flip, 1 - y_blobs, y_blobs)
X = np.vstack([X_moons, X_blobs])
y = np.concatenate([y_moons, y_blobs])
region = np.repeat(["moons", "noisy blobs"], [len(X_moons), len(X_blobs)])
X_train, X_test, y_train, y_test, region_train, region_test = train_test_split(
    X, y, region, test_size=0.4, stratify=y, random_state=0
)

# %%
# The adaptive model and the k it chooses
# ---------------------------------------
# ``k_range=(1, 40)`` lets the noisy half reach large votes. The default
# similarity, ``"neighbors"``, judges each k on the query's nearest training
# rows, so the choice follows the local regime.
model = ExpectedAccuracyKNNClassifier(k_range=(1, 40), n_similar=50).fit(
    X_train, y_train
)
chosen_test = model.chosen_k(X_test)
for name in ("moons", "noisy blobs"):
    in_region = region_test == name
    accuracy = np.mean(model.predict(X_test[in_region]) == y_test[in_region])
    print(
        f"{name:12s} median chosen k {np.median(chosen_test[in_region]):5.1f}, "
        f"test accuracy {accuracy:.3f}"
    )

# %%
# Every fixed k on the same split
# -------------------------------
ks = np.arange(1, 41)
fixed = np.array(
    [KNeighborsClassifier(k).fit(X_train, y_train).score(X_test, y_test) for k in ks]
)
adaptive = model.score(X_test, y_test)
print(f"adaptive {adaptive:.3f}; best fixed k={ks[fixed.argmax()]} {fixed.max():.3f}")

# %%
# The map
# -------
x_min, y_min = X.min(axis=0) - 0.5
x_max, y_max = X.max(axis=0) + 0.5
xx, yy = np.meshgrid(np.linspace(x_min, x_max, 240), np.linspace(y_min, y_max, 120))
grid = np.c_[xx.ravel(), yy.ravel()]
k_map = model.chosen_k(grid).reshape(xx.shape)
proba_map = model.predict_proba(grid)[:, 1].reshape(xx.shape)

fig, axes = plt.subplots(
    1, 3, figsize=(15, 4.4), gridspec_kw={"width_ratios": [1.6, 1.6, 1]}
)
ax = axes[0]
ax.contourf(xx, yy, proba_map, levels=np.linspace(0, 1, 11), cmap="RdBu", alpha=0.6)
ax.scatter(*X_train.T, c=y_train, cmap="RdBu", s=8, edgecolor="k", linewidth=0.2)
ax.set_title("Training rows and the adaptive model's P(class 1)")
ax = axes[1]
image = ax.imshow(
    k_map,
    origin="lower",
    extent=(x_min, x_max, y_min, y_max),
    aspect="auto",
    cmap="viridis",
    interpolation="nearest",
)
ax.scatter(*X_train.T, c="white", s=2, alpha=0.5)
fig.colorbar(image, ax=ax, label="chosen k")
ax.set_title("The k each point of the plane gets")
ax = axes[2]
ax.plot(ks, fixed, marker=".", label="fixed k")
ax.axhline(adaptive, color="C3", label=f"adaptive ({adaptive:.3f})")
ax.set_xlabel("k")
ax.set_ylabel("test accuracy")
ax.set_title("Adaptive against every fixed k")
ax.legend(loc="lower right")
fig.tight_layout()
plt.show()
