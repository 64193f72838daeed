"""Session set-up shared by every test module."""

import os

# scikit-learn's array-API check (run for every estimator, with NumPy as the
# namespace) skips itself unless scipy's array-API mode is on; it has to be set
# before scipy is first imported.
os.environ.setdefault("SCIPY_ARRAY_API", "1")
