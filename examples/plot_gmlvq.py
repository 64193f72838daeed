"""
==========================================================
GMLVQ: prototypes and the relevance matrix on wine
==========================================================

:class:`~sklearn_metric.prototypes.GMLVQ` learns one prototype per class and
a relevance matrix :math:`\\Lambda = \\Omega^\\top \\Omega`: the distance
:math:`(x - w)^\\top \\Lambda (x - w)` that decides which prototype a sample
belongs to. Both can be read. The diagonal of :math:`\\Lambda` ranks the
features, its off-diagonal entries show the pairs of features that the
distance combines, and :meth:`~sklearn_metric.prototypes.GMLVQ.transform`
projects the data on the leading eigenvectors of :math:`\\Lambda`, where
Euclidean distances are the learned ones.
"""

# %%
# Fit on the 13 standardised wine features
# ----------------------------------------
import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_wine
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_metric.prototypes import GLVQ, GMLVQ

data = load_wine()
X_train, X_test, y_train, y_test = train_test_split(
    data.data, data.target, test_size=0.3, stratify=data.target, random_state=0
)
scaler = StandardScaler().fit(X_train)
gmlvq = GMLVQ(random_state=0).fit(scaler.transform(X_train), y_train)
glvq = make_pipeline(StandardScaler(), GLVQ(random_state=0)).fit(X_train, y_train)
print(f"GMLVQ test accuracy: {gmlvq.score(scaler.transform(X_test), y_test):.3f}")
print(f"GLVQ test accuracy:  {glvq.score(X_test, y_test):.3f}")

# %%
# The data as the model sees it, and what it looks at
# ---------------------------------------------------
# Left: the test samples and the three prototypes, projected on the two
# leading eigenvectors of the relevance matrix. Middle: the relevance matrix.
# Right: the relevance of each feature on its own (the diagonal).
Z = gmlvq.transform(scaler.transform(X_test))
P = gmlvq.transform(gmlvq.prototypes_)
fig, axes = plt.subplots(1, 3, figsize=(15, 4.5))
ax = axes[0]
for label in gmlvq.classes_:
    ax.scatter(*Z[y_test == label, :2].T, s=18, alpha=0.7, label=f"class {label}")
ax.scatter(*P[:, :2].T, c="k", marker="*", s=250, label="prototypes")
ax.set_xlabel("first eigenvector")
ax.set_ylabel("second eigenvector")
ax.set_title("Test samples in the learned space")
ax.legend(fontsize="small")

ax = axes[1]
limit = np.abs(gmlvq.lambda_).max()
image = ax.imshow(gmlvq.lambda_, cmap="RdBu_r", vmin=-limit, vmax=limit)
ax.set_xticks(range(13), data.feature_names, rotation=90, fontsize=7)
ax.set_yticks(range(13), data.feature_names, fontsize=7)
ax.set_title("Relevance matrix $\\Lambda$")
fig.colorbar(image, ax=ax, shrink=0.8)

ax = axes[2]
order = np.argsort(gmlvq.feature_relevances_)
ax.barh(np.array(data.feature_names)[order], gmlvq.feature_relevances_[order])
ax.set_xlabel("relevance (diagonal of $\\Lambda$)")
ax.set_title("Feature relevances")
fig.tight_layout()
plt.show()

# %%
# Reading the figure
# ------------------
# The eigenvalues of :math:`\Lambda` fall fast: most of the distance lives in
# two directions, which is why two coordinates separate the three cultivars.
print("eigenvalues of Lambda:", np.round(gmlvq.eigenvalues_[:4], 3))
# %%
# A feature with a small diagonal entry can still matter through its
# off-diagonal entries, when the distance uses it in combination with
# another; the matrix shows those pairs.

# %%
# The same reading on a two-dimensional dataset
# ---------------------------------------------
# Three classes that differ along one diagonal only, with wide noise along
# the other. In two dimensions the prototypes, the regions and the 2 x 2
# relevance matrix can all be drawn in the input space. The regions of the two
# models look alike: with one prototype per class near the class means, the
# Euclidean bisectors of GLVQ are already nearly perpendicular to the
# informative diagonal. What GMLVQ adds is the matrix, which says that its
# distance ignores the noisy diagonal altogether.
rng = np.random.RandomState(0)
informative = np.repeat([-2.0, 0.0, 2.0], 100) + 0.45 * rng.standard_normal(300)
noise = 3.0 * rng.standard_normal(300)
rotation = np.array([[1.0, -1.0], [1.0, 1.0]]) / np.sqrt(2.0)
X2 = np.c_[informative, noise] @ rotation.T
y2 = np.repeat([0, 1, 2], 100)
models = {
    "GLVQ": GLVQ(random_state=0).fit(X2, y2),
    "GMLVQ": GMLVQ(random_state=0).fit(X2, y2),
}
xx, yy = np.meshgrid(np.linspace(-8, 8, 200), np.linspace(-8, 8, 200))
grid = np.c_[xx.ravel(), yy.ravel()]
fig, axes = plt.subplots(1, 3, figsize=(14, 4.3))
for ax, (name, model) in zip(axes, models.items()):
    regions = model.predict(grid).reshape(xx.shape)
    ax.contourf(xx, yy, regions, levels=[-0.5, 0.5, 1.5, 2.5], alpha=0.25)
    ax.scatter(*X2.T, c=y2, s=8, cmap="viridis")
    ax.scatter(*model.prototypes_.T, c="k", marker="*", s=250)
    ax.set_title(f"{name}: training accuracy {model.score(X2, y2):.2f}")
    ax.set_aspect("equal")
ax = axes[2]
image = ax.imshow(models["GMLVQ"].lambda_, cmap="RdBu_r", vmin=-1, vmax=1)
ax.set_xticks([0, 1], ["x1", "x2"])
ax.set_yticks([0, 1], ["x1", "x2"])
for (i, j), value in np.ndenumerate(models["GMLVQ"].lambda_):
    ax.text(j, i, f"{value:.2f}", ha="center", va="center")
ax.set_title("GMLVQ relevance matrix $\\Lambda$")
fig.colorbar(image, ax=ax, shrink=0.8)
fig.tight_layout()
plt.show()

# %%
# :math:`\Lambda` is close to the projection on the informative diagonal
# :math:`(1, 1) / \sqrt{2}`: equal diagonal entries of about 0.5 and an
# off-diagonal entry of about 0.5 (the two features count only through their
# sum); ``feature_relevances_`` alone, 0.5 and 0.5, would hide that.
print("GMLVQ Lambda on the 2-D data:\n", np.round(models["GMLVQ"].lambda_, 3))
