"""Fixtures shared by the prototype tests."""

import pytest
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler


@pytest.fixture(scope="session")
def digits_protocol():
    """The issue's digits protocol: ``(X_train, y_train, X_test, y_test)``.

    A stratified 70/30 split with ``random_state=0``, standardised by a
    scaler fitted on the training part.
    """
    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.3, stratify=y, random_state=0
    )
    scaler = StandardScaler().fit(X_train)
    return scaler.transform(X_train), y_train, scaler.transform(X_test), y_test
