"""Sphinx configuration of the sklearn_metric documentation.

The API reference is not written by hand: :func:`write_generated_pages` builds
``generated/api.rst`` from the package's registry
(:func:`sklearn_metric.utils.discovery.all_estimators` and
:func:`~sklearn_metric.utils.discovery.all_functions`) and from the ``__all__``
of every public module, and autosummary writes one page per object. A new
estimator or function therefore appears in the reference as soon as its
subpackage exports it.
"""

import inspect
import os
import pkgutil
import re
import subprocess
import sys
from importlib import import_module
from pathlib import Path

# Examples and the CLI output are produced without a display.
os.environ.setdefault("MPLBACKEND", "Agg")

DOCS_DIR = Path(__file__).resolve().parent
GENERATED_DIR = DOCS_DIR / "generated"

from sphinx.util import logging

import sklearn_metric
from sklearn_metric.utils.discovery import all_estimators, all_functions

logger = logging.getLogger(__name__)

# -- Project information -----------------------------------------------------

project = "sklearn_metric"
author = "sklearn_metric developers"
copyright = "sklearn_metric developers"
release = sklearn_metric.__version__
version = ".".join(release.split(".")[:2])

# -- General configuration ---------------------------------------------------

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
    "sphinx.ext.intersphinx",
    "sphinx.ext.mathjax",
]

templates_path = ["_templates"]
exclude_patterns = ["_build", "README.md", "Thumbs.db", ".DS_Store"]
root_doc = "index"
default_role = "literal"

autosummary_generate = True
autodoc_default_options = {"member-order": "groupwise"}
autodoc_typehints = "none"

numpydoc_show_class_members = False
numpydoc_class_members_toctree = False

# The documentation must build without a network. Cross-links to the Python,
# NumPy and scikit-learn documentation are only fetched when asked for, with
# SKLEARN_METRIC_DOCS_INTERSPHINX=1; without them, references to those projects
# render as plain code.
intersphinx_mapping = {}
if os.environ.get("SKLEARN_METRIC_DOCS_INTERSPHINX") == "1":
    intersphinx_mapping = {
        "python": ("https://docs.python.org/3", None),
        "numpy": ("https://numpy.org/doc/stable", None),
        "scipy": ("https://docs.scipy.org/doc/scipy", None),
        "sklearn": ("https://scikit-learn.org/stable", None),
        "matplotlib": ("https://matplotlib.org/stable", None),
    }
intersphinx_timeout = 10

sphinx_gallery_conf = {
    "examples_dirs": "../examples",
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",
    "within_subsection_order": "FileNameSortKey",
    "backreferences_dir": "gen_modules/backreferences",
    "doc_module": ("sklearn_metric",),
    "reference_url": {"sklearn_metric": None},
    "remove_config_comments": True,
    "show_memory": False,
}

# -- HTML output -------------------------------------------------------------

try:
    import pydata_sphinx_theme  # noqa: F401
except ImportError:
    html_theme = "alabaster"
    html_theme_options = {}
else:
    html_theme = "pydata_sphinx_theme"
    html_theme_options = {
        "navigation_depth": 2,
        "show_toc_level": 2,
        "header_links_before_dropdown": 6,
    }
html_title = f"sklearn_metric {release}"
html_show_sourcelink = False

# -- Generated pages ---------------------------------------------------------

# Extra text for modules whose public face is not a Python object.
_MODULE_NOTES = {
    "sklearn_metric.cli": "The command's options are described in :doc:`/cli`.",
}


def public_modules():
    """Return the names of the public modules of the package, sorted.

    A module is public when no part of its dotted name starts with ``_`` and it
    is not a test module.
    """
    root = Path(sklearn_metric.__file__).parent
    names = ["sklearn_metric"]
    for info in pkgutil.walk_packages([str(root)], prefix="sklearn_metric."):
        parts = info.name.split(".")
        if "tests" in parts or any(part.startswith("_") for part in parts):
            continue
        names.append(info.name)
    return sorted(names)


def _home_module(obj, name, modules):
    """The public module under which ``obj`` is documented, or None.

    In order of preference: the shortest public package containing the module
    that defines ``obj`` and listing ``name`` in its ``__all__``; the shortest
    other public module listing it; the shortest public package containing
    the defining module and merely having the attribute.
    """
    defining = obj.__module__

    def is_parent(module_name):
        return defining == module_name or defining.startswith(module_name + ".")

    def exports(module_name, require_all):
        module = import_module(module_name)
        if getattr(module, name, None) is not obj:
            return False
        return not require_all or name in getattr(module, "__all__", ())

    by_length = sorted(modules, key=len)
    for candidates, require_all in (
        ([m for m in by_length if is_parent(m)], True),
        (by_length, True),
        ([m for m in by_length if is_parent(m)], False),
    ):
        for module_name in candidates:
            if exports(module_name, require_all):
                return module_name
    return None


def collect_api():
    """Group the documented objects by the public module they belong to.

    Returns
    -------
    api : dict
        ``{module name: {"estimators": [...], "classes": [...], "functions":
        [...], "data": [...]}}``, each list holding sorted object names.
    """
    modules = public_modules()
    api = {
        name: {"estimators": [], "classes": [], "functions": [], "data": []}
        for name in modules
    }
    documented = set()

    def add(kind, obj, name):
        home = _home_module(obj, name, modules)
        if home is None:
            logger.warning(
                "%s.%s is in the registry but no public module exports it; it "
                "is left out of the API reference.",
                obj.__module__,
                name,
            )
            return
        if (home, name) in documented:
            return
        documented.add((home, name))
        api[home][kind].append(name)

    for name, cls in all_estimators():
        add("estimators", cls, name)
    for qualified_name, func in all_functions():
        add("functions", func, qualified_name.rsplit(".", 1)[1])
    # Public names that are neither registered estimators nor functions:
    # mixins, helper classes and constants.
    for module_name in modules:
        module = import_module(module_name)
        for name in getattr(module, "__all__", ()):
            if name.startswith("__"):
                continue
            obj = getattr(module, name)
            if inspect.ismodule(obj) or inspect.isfunction(obj):
                continue
            if inspect.isclass(obj):
                add("classes", obj, name)
            elif (module_name, name) not in documented:
                documented.add((module_name, name))
                api[module_name]["data"].append(name)
    for groups in api.values():
        for names in groups.values():
            names.sort()
    return api


def _autosummary(title, names):
    # No :template: option: autosummary picks _templates/autosummary/class.rst
    # or function.rst by the object's type.
    lines = [
        title,
        "~" * len(title),
        "",
        ".. autosummary::",
        "   :toctree: .",
        "   :nosignatures:",
        "",
    ]
    lines += [f"   {name}" for name in names]
    return lines + [""]


def _comment_doc(module, name):
    """The ``#:`` comment lines just above ``name = ...`` in the module source.

    Read directly rather than through autodoc, whose source analyser gives up
    on a whole module when it meets syntax it cannot unparse (Sphinx 9 fails on
    ``{**a, ...}`` in a decorator), losing every ``#:`` comment of it.
    """
    source = inspect.getsource(module).splitlines()
    pattern = re.compile(rf"^{re.escape(name)}\s*(:[^=]*)?=")
    for number, line in enumerate(source):
        if pattern.match(line):
            comment = []
            for previous in reversed(source[:number]):
                if not previous.startswith("#:"):
                    break
                comment.insert(0, previous[2:].strip())
            return " ".join(comment)
    return ""


def _data_entry(module, name):
    value = getattr(module, name)
    lines = [f".. py:data:: {name}", f"   :value: {value!r}", ""]
    doc = _comment_doc(module, name)
    if doc:
        lines += [f"   {doc}", ""]
    return lines


def render_api(api):
    """Render the API reference page from :func:`collect_api`'s result."""
    lines = [
        ".. This page is generated by docs/conf.py; edit the docstrings instead.",
        "",
        ".. _api_ref:",
        "",
        "=============",
        "API reference",
        "=============",
        "",
        "Every public module, with the estimators, classes, functions and",
        "constants it exports. The list is built from",
        ":func:`sklearn_metric.utils.discovery.all_estimators`,",
        ":func:`sklearn_metric.utils.discovery.all_functions` and the modules'",
        "``__all__`` each time the documentation is built.",
        "",
    ]
    documented_elsewhere = {
        (home, name)
        for home, groups in api.items()
        for names in groups.values()
        for name in names
    }
    for module_name, groups in api.items():
        module = import_module(module_name)
        lines += [f":mod:`{module_name}`", "-" * (len(module_name) + 7), ""]
        lines += [
            f".. automodule:: {module_name}",
            "   :no-members:",
            "   :no-inherited-members:",
            "",
        ]
        if module_name in _MODULE_NOTES:
            lines += [_MODULE_NOTES[module_name], ""]
        lines += [f".. currentmodule:: {module_name}", ""]
        if groups["estimators"]:
            lines += _autosummary("Estimators", groups["estimators"])
        if groups["classes"]:
            lines += _autosummary("Classes", groups["classes"])
        if groups["functions"]:
            lines += _autosummary("Functions", groups["functions"])
        if groups["data"]:
            lines += ["Constants", "~~~~~~~~~", ""]
            for name in groups["data"]:
                lines += _data_entry(module, name)
        # Names re-exported from here but documented under a parent package.
        reexported = []
        for name in getattr(module, "__all__", ()):
            obj = getattr(module, name)
            if name.startswith("__") or inspect.ismodule(obj):
                continue
            if (module_name, name) in documented_elsewhere:
                continue
            for home in api:
                if (home, name) in documented_elsewhere and getattr(
                    import_module(home), name, None
                ) is obj:
                    reexported.append(f":obj:`~{home}.{name}`")
                    break
        if reexported:
            lines += [
                "Also importable from this module: "
                + ", ".join(sorted(reexported))
                + ".",
                "",
            ]
    return "\n".join(lines)


def _write_if_changed(path, text):
    """Write ``text`` to ``path`` unless it already holds it (keeps mtimes)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists() and path.read_text(encoding="utf-8") == text:
        return
    path.write_text(text, encoding="utf-8")


def _remove_stale_stubs(api):
    """Delete autosummary pages of objects that are no longer public."""
    current = {
        f"{module_name}.{name}.rst"
        for module_name, groups in api.items()
        for kind in ("estimators", "classes", "functions")
        for name in groups[kind]
    }
    for stub in GENERATED_DIR.glob("sklearn_metric.*.rst"):
        if stub.name not in current:
            stub.unlink()


def _run_cli(*args):
    """Output of ``python -m sklearn_metric`` with ``args``, 80 columns wide."""
    env = dict(os.environ, COLUMNS="80")
    result = subprocess.run(
        [sys.executable, "-m", "sklearn_metric", *args],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )
    return result.stdout


def render_metric_learners(api):
    """The paragraph of the user guide that lists the metric learners."""
    module_name = "sklearn_metric.metric_learning"
    learners = [
        name
        for home, groups in api.items()
        if home == module_name or home.startswith(module_name + ".")
        for name in groups["estimators"]
    ]
    if not learners:
        return (
            "This release contains this base API only. The learners themselves\n"
            "(NCA, LMNN, ITML and the others of metric-learn) come in a later\n"
            "release.\n"
        )
    lines = ["The learners of this release, each described in the API reference:", ""]
    for name in sorted(learners):
        summary = inspect.getdoc(getattr(import_module(module_name), name))
        summary = summary.split("\n\n")[0].replace("\n", " ") if summary else ""
        lines.append(f"* :class:`~{module_name}.{name}`: {summary}")
    return "\n".join(lines) + "\n"


def write_generated_pages(app, config):
    """``config-inited`` hook: write the API reference and the other pages.

    Besides ``api.rst``: the list of metric learners included by the user
    guide, and the outputs of the ``sklearn-metric`` command.
    """
    GENERATED_DIR.mkdir(exist_ok=True)
    api = collect_api()
    _remove_stale_stubs(api)
    _write_if_changed(GENERATED_DIR / "api.rst", render_api(api) + "\n")
    _write_if_changed(
        GENERATED_DIR / "metric_learners.txt", render_metric_learners(api)
    )
    _write_if_changed(GENERATED_DIR / "cli_help.txt", _run_cli("--help"))
    _write_if_changed(GENERATED_DIR / "cli_run_iris.txt", _run_cli("--dataset", "iris"))


SKLEARN_GLOSSARY = "https://scikit-learn.org/stable/glossary.html"


def resolve_sklearn_conventions(app, env, node, contnode):
    """``missing-reference`` hook for scikit-learn's documentation conventions.

    Docstrings here, like scikit-learn's, use ``:term:`` for entries of
    scikit-learn's glossary (``:term:`fit```); such a reference links to that
    glossary. Methods inherited from scikit-learn carry ``:ref:`` labels of
    scikit-learn's user guide, which this documentation does not have; they are
    shown as plain text. Other missing references are left to Sphinx, which
    warns about them. Runs after intersphinx, so an available inventory wins.
    """
    from docutils import nodes

    if node.get("refdomain") != "std":
        return None
    if node.get("reftype") == "term":
        anchor = "term-" + "".join(
            char if char.isalnum() or char in "._" else "-"
            for char in node["reftarget"].lower()
        )
        reference = nodes.reference(
            "", "", internal=False, refuri=f"{SKLEARN_GLOSSARY}#{anchor}"
        )
        reference += contnode
        return reference
    if node.get("reftype") == "ref" and ":docstring of sklearn." in (node.source or ""):
        return contnode
    return None


def setup(app):
    # config-inited comes before Sphinx lists the source files and before
    # autosummary's builder-inited hook reads generated/api.rst to write stubs.
    app.connect("config-inited", write_generated_pages)
    app.connect("missing-reference", resolve_sklearn_conventions, priority=900)
