"""The imbalanced-learn compatibility run (benchmarks/imblearn_compat.py)."""

import pytest

from benchmarks.imblearn_compat import parse_counts, rewrite_sampler_imports, run


def test_rewrite_changes_only_the_sampler_imports():
    source = (
        "from imblearn.over_sampling import SMOTE\n"
        "from imblearn.over_sampling import (\n    ADASYN,\n)\n"
        "    from imblearn.over_sampling import SVMSMOTE\n"
        "from imblearn.utils.testing import _CustomNearestNeighbors\n"
        "import imblearn.over_sampling._smote.base\n"
    )
    rewritten = rewrite_sampler_imports(source)
    assert rewritten.count("from sklearn_metric.over_sampling import") == 3
    assert "from imblearn.utils.testing import _CustomNearestNeighbors" in rewritten
    assert "import imblearn.over_sampling._smote.base" in rewritten
    assert "from imblearn.over_sampling import" not in rewritten


def test_parse_counts_reads_the_summary():
    output = "PASSED a.py::t1\nFAILED a.py::t2 - boom\nERROR b.py\nSKIPPED [1] c.py\n"
    counts = parse_counts(output)
    assert (counts["passed"], counts["failed"], counts["error"]) == (1, 1, 1)
    assert counts["failures"] == ["a.py::t2", "b.py"]


def test_random_over_sampler_tests_of_imbalanced_learn_pass():
    pytest.importorskip("imblearn")
    counts = run(
        select=lambda relative: relative.endswith("test_random_over_sampler.py")
    )
    assert counts["passed"] >= 20
    assert counts["failures"] == []
