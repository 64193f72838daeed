#!/usr/bin/env bash
# Build the "legacy" virtual environment used by benchmark anchors that only
# run on an older scikit-learn (metric-learn 0.7 and sklvq 0.1 break on
# scikit-learn >= 1.6).  The harness calls ``<venv>/bin/python
# benchmarks/legacy_runner.py`` by subprocess, so nothing from this venv is
# ever imported into the main environment.
#
# Usage (from anywhere):
#     bash benchmarks/legacy_env.sh
#
# The venv goes to ``.legacy-venv/`` at the repository root (git-ignored).
# Set SKLEARN_METRIC_LEGACY_VENV to build it elsewhere; the harness reads the
# same variable.  Set PYTHON to choose the interpreter (default: python3).
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo_root"

venv="${SKLEARN_METRIC_LEGACY_VENV:-.legacy-venv}"
"${PYTHON:-python3}" -m venv "$venv"
"$venv/bin/pip" install --upgrade pip
"$venv/bin/pip" install "scikit-learn==1.5.2" "numpy<2.3" scipy \
    metric-learn==0.7.0 sklvq==0.1.2

"$venv/bin/python" - <<'PY'
import importlib.metadata as md
for name in ("scikit-learn", "numpy", "scipy", "metric-learn", "sklvq"):
    print(f"{name:>14}: {md.version(name)}")
PY
echo "legacy venv ready: $venv"
