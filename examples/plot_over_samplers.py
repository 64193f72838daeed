"""
===========================================
Where each over-sampler puts its new points
===========================================

The samplers of :mod:`sklearn_metric.over_sampling` all draw a synthetic row
on the line through a minority row and one of its neighbours; they differ in
*which* rows they start from and how many rows each start gets. This example
balances one imbalanced two-dimensional dataset with each numeric sampler and
draws the original majority rows, the original minority rows and the
synthetic rows:

* :class:`~sklearn_metric.over_sampling.SMOTE` starts from every minority row
  alike, so the new points fill the minority region evenly;
* :class:`~sklearn_metric.over_sampling.BorderlineSMOTE` (``"borderline-1"``)
  starts only from the minority rows "in danger", those with at least half of
  their neighbours in the majority class;
* :class:`~sklearn_metric.over_sampling.ADASYN` starts from every minority row
  with a majority neighbour, more often the more majority neighbours it has;
* :class:`~sklearn_metric.over_sampling.SVMSMOTE` starts from the minority
  support vectors of an SVM, and extrapolates away from the class from the
  safe ones;
* :class:`~sklearn_metric.over_sampling.KMeansSMOTE` clusters the data and
  applies SMOTE inside the clusters where the minority class is well
  represented, more in the sparse ones;
* the last panel is SMOTE with ``metric="manhattan"``: only the choice of the
  neighbours changes, the points are still drawn on straight segments.

The original rows come first in the output of ``fit_resample`` and the
synthetic rows after them, so ``X_res[len(X):]`` is the synthetic part, and
``synthetic_pairs_["parents"]`` gives the two rows each one was drawn from.
"""

# %%
# Data
# ----
# 300 rows, two informative features, about 10% in the minority class.
import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import make_classification

from sklearn_metric.over_sampling import (
    ADASYN,
    SMOTE,
    SVMSMOTE,
    BorderlineSMOTE,
    KMeansSMOTE,
)

X, y = make_classification(
    n_samples=300,
    n_features=2,
    n_redundant=0,
    n_clusters_per_class=1,
    weights=[0.9],
    class_sep=1.0,
    random_state=4,
)
n_majority, n_minority = np.bincount(y)
print(f"majority: {n_majority} rows, minority: {n_minority} rows")

# %%
# Resampling
# ----------
# Every sampler balances the classes (``sampling_strategy="auto"``). With 300
# rows the default clustering of KMeansSMOTE is too fine, so it gets 10
# clusters and keeps those with at least 10% of minority rows.
samplers = {
    "SMOTE": SMOTE(random_state=0),
    "BorderlineSMOTE (borderline-1)": BorderlineSMOTE(
        kind="borderline-1", random_state=0
    ),
    "ADASYN": ADASYN(random_state=0),
    "SVMSMOTE": SVMSMOTE(random_state=0),
    "KMeansSMOTE": KMeansSMOTE(
        kmeans_estimator=10, cluster_balance_threshold=0.1, random_state=0
    ),
    'SMOTE, metric="manhattan"': SMOTE(metric="manhattan", random_state=0),
}

fig, axes = plt.subplots(
    2, 3, figsize=(13, 8.5), layout="constrained", sharex=True, sharey=True
)
for ax, (name, sampler) in zip(axes.flat, samplers.items()):
    X_res, y_res = sampler.fit_resample(X, y)
    # The original rows are unchanged and come first.
    assert np.array_equal(X_res[: len(X)], X)
    X_new = X_res[len(X) :]
    parents = sampler.synthetic_pairs_["parents"]
    starts = np.unique(parents[:, 0])
    print(f"{name:>30}: {len(X_new)} synthetic rows from {len(starts)} starting rows")

    ax.scatter(*X[y == 0].T, s=12, c="#9ecae1", label=f"majority ({n_majority})")
    ax.scatter(
        *X_new.T, s=10, c="#fdae6b", marker="x", label=f"synthetic ({len(X_new)})"
    )
    ax.scatter(
        *X[y == 1].T,
        s=22,
        c="#d62728",
        edgecolor="k",
        linewidth=0.5,
        label=f"minority ({n_minority})",
    )
    # Circle the minority rows that started at least one synthetic row.
    ax.scatter(
        *X[starts].T,
        s=70,
        facecolor="none",
        edgecolor="k",
        linewidth=0.8,
        label=f"starting rows ({len(starts)})",
    )
    ax.set_title(
        f"{name}\n{n_minority} + {len(X_new)} minority vs {n_majority} majority"
    )
    ax.legend(loc="lower left", fontsize=7)

fig.suptitle("Synthetic minority rows of each over-sampler")
plt.show()

# %%
# SMOTE and its Manhattan variant spread the new rows over the whole minority
# region, including its interior, where they tell a classifier little.
# BorderlineSMOTE, ADASYN and SVMSMOTE start from a few rows near the majority
# class, so the new rows gather where the decision boundary is drawn;
# SVMSMOTE's extrapolation from safe support vectors also places some beyond
# the outermost minority rows. KMeansSMOTE leaves out the clusters where the
# minority class is a small share, so the minority rows that sit among
# majority rows start no synthetic row.
