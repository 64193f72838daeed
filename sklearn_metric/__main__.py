"""``python -m sklearn_metric`` runs the ``sklearn-metric`` command."""

import sys

from .cli import main

sys.exit(main())
