"""The robustness protocol in small, for regression tests of defaults.

A stratified 70/30 split, ``StandardScaler`` fitted on the training part,
and the 3-NN test accuracy in a learned space (``benchmarks/suites/
robustness.py`` runs the same protocol over many datasets and seeds).
"""

from sklearn.datasets import make_classification
from sklearn.model_selection import train_test_split
from sklearn.neighbors import KNeighborsClassifier
from sklearn.preprocessing import StandardScaler

#: make_classification arguments of the synthetic sets of the benchmark.
SHAPES = {
    # 990 x 10, 11 classes (the shape of UCI vowel).
    "vowel_like": dict(n_samples=990, n_features=10, n_informative=8, n_classes=11),
    # 360 x 90, 15 classes, 80 noise features (the shape of movement_libras).
    "libras_like": dict(
        n_samples=360,
        n_features=90,
        n_informative=10,
        n_classes=15,
        class_sep=1.5,
        random_state=1,
    ),
    # 160 x 20, 8 classes of 20 rows.
    "few_rows": dict(
        n_samples=160,
        n_features=20,
        n_informative=6,
        n_classes=8,
        class_sep=1.5,
        random_state=2,
    ),
}


def protocol_split(shape, seed=0):
    """``(X_train, y_train, X_test, y_test)`` of a synthetic set, scaled."""
    params = {"random_state": 0, **SHAPES[shape]}
    X, y = make_classification(n_redundant=0, n_clusters_per_class=1, **params)
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.3, stratify=y, random_state=seed
    )
    scaler = StandardScaler().fit(X_train)
    return scaler.transform(X_train), y_train, scaler.transform(X_test), y_test


def knn3_accuracy(X_train, y_train, X_test, y_test, transform=None):
    """3-NN test accuracy, in the space of ``transform`` when given."""
    if transform is not None:
        X_train, X_test = transform(X_train), transform(X_test)
    knn = KNeighborsClassifier(3).fit(X_train, y_train)
    return knn.score(X_test, y_test)
