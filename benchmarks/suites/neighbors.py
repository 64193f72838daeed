"""Neighbour estimators: sklearn_metric.neighbors against scikit-learn.

``KNeighborsClassifier`` (fit then predict) is compared with scikit-learn's
``KNeighborsClassifier`` on the same split, with brute force and with the
default algorithm choice. Quality: test accuracy of ours and of the anchor
(they differ only where equally distant neighbours are ordered differently).
"""

from functools import partial

import numpy as np
from sklearn.datasets import load_digits, make_classification
from sklearn.model_selection import train_test_split
from sklearn.neighbors import KNeighborsClassifier as SklearnKNN
from sklearn.preprocessing import StandardScaler

from sklearn_metric.neighbors import KNeighborsClassifier

from .._harness import Case, Quality


def _digits():
    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.3, stratify=y, random_state=0
    )
    scaler = StandardScaler().fit(X_train)
    return scaler.transform(X_train), scaler.transform(X_test), y_train, y_test


def _synthetic(n_samples, n_features):
    X, y = make_classification(
        n_samples, n_features, n_informative=20, n_classes=4, random_state=0
    )
    return train_test_split(X.astype(np.float32), y, test_size=0.2, random_state=0)


def _fit_predict(model, X_train, y_train, X_test):
    return model.fit(X_train, y_train).predict(X_test)


def _accuracies(y_test, anchor_pred, ours_pred):
    return Quality(
        "accuracy (ours)",
        float(np.mean(ours_pred == y_test)),
        note=f"anchor accuracy {np.mean(anchor_pred == y_test):.4f}",
        fmt=".4f",
    )


def cases(quick):
    """Yield the neighbour cases.

    Parameters
    ----------
    quick : bool
        Use a small synthetic problem instead of the full-size one.

    Yields
    ------
    Case
    """
    n_samples = 5_000 if quick else 50_000
    datasets = [("digits 1257x64 (5-NN)", _digits)]
    datasets.append(
        (
            f"synthetic {int(n_samples * 0.8)}x50 float32 (5-NN)",
            partial(_synthetic, n_samples, 50),
        )
    )
    for label, load in datasets:
        X_train, X_test, y_train, y_test = load()
        for algorithm in ("brute", "auto"):
            yield Case(
                f"KNeighborsClassifier fit+predict, {label}",
                f"sklearn KNeighborsClassifier(algorithm={algorithm!r})",
                anchor=partial(
                    _fit_predict,
                    SklearnKNN(5, algorithm=algorithm),
                    X_train,
                    y_train,
                    X_test,
                ),
                ours=partial(
                    _fit_predict, KNeighborsClassifier(5), X_train, y_train, X_test
                ),
                quality=partial(_accuracies, y_test),
            )
