"""show_versions and the package version."""

import re

import sklearn_metric


def test_version_is_pep440():
    assert re.fullmatch(
        r"\d+\.\d+\.\d+((a|b|rc)\d+)?(\.dev\d+)?", sklearn_metric.__version__
    )


def test_show_versions_lists_dependencies_and_threading(capsys):
    sklearn_metric.show_versions()
    out = capsys.readouterr().out
    for name in ("sklearn_metric", "scikit-learn", "numpy", "scipy", "numba", "joblib"):
        assert re.search(rf"^\s*{name}: \S+", out, flags=re.MULTILINE), name
    layer = re.search(r"threading layer: (\S+)", out).group(1)
    assert layer in {"omp", "tbb", "workqueue"}
    assert re.search(r"num threads: \d+", out)
