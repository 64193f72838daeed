"""Documentation checks that need no Sphinx build.

* Every public estimator, class and function has a numpydoc docstring with the
  main sections (a plain check always; :func:`numpydoc.validate.validate` when
  numpydoc, a docs extra, is installed), which renders as valid
  reStructuredText (with numpydoc and docutils).
* Every module of the package has a module docstring.
* Every script in ``examples/`` runs (when matplotlib, a docs extra, is
  installed), and the ``>>>`` sessions of the user guide give the output shown.
"""

import ast
import doctest
import inspect
import re
import runpy
import textwrap
from importlib import import_module
from pathlib import Path

import pytest

import sklearn_metric
from sklearn_metric.utils.discovery import all_estimators, all_functions

ROOT = Path(__file__).resolve().parents[1]
PACKAGE_DIR = Path(sklearn_metric.__file__).resolve().parent
EXAMPLES = sorted((ROOT / "examples").glob("*.py"))
DOC_PAGES = sorted((ROOT / "docs").glob("**/*.rst"))
# Hand-written pages only: not the build output nor what Sphinx generates.
DOC_PAGES = [
    path
    for path in DOC_PAGES
    if not {"_build", "generated", "auto_examples", "_templates"}
    & set(path.relative_to(ROOT / "docs").parts)
    and path.name != "sg_execution_times.rst"
]

# numpydoc checks of the main sections: a docstring with a summary, every
# parameter documented and described, and a Returns (or Yields) section with
# descriptions when the function returns (or yields) something.
NUMPYDOC_CHECKS = {
    "GL08",  # no docstring
    "SS01",  # no summary
    "SS03",  # summary does not end with a period
    "PR01",  # parameters not documented
    "PR02",  # unknown parameters documented
    "PR03",  # parameters documented in the wrong order
    "PR07",  # parameter without a description
    "RT01",  # no Returns section
    "RT03",  # return value without a description
    "YD01",  # no Yields section
}


def _public_classes():
    """Public classes of the public modules that are not registered estimators."""
    estimators = {cls for _, cls in all_estimators()}
    found = {}
    for module_name in _public_module_names():
        module = import_module(module_name)
        for name in getattr(module, "__all__", ()):
            obj = getattr(module, name)
            if inspect.isclass(obj) and obj not in estimators:
                found[f"{obj.__module__}.{obj.__qualname__}"] = obj
    return sorted(found.items())


def _public_module_names():
    names = []
    for path in sorted(PACKAGE_DIR.rglob("*.py")):
        parts = path.relative_to(PACKAGE_DIR.parent).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        if any(part.startswith("_") for part in parts):
            continue
        names.append(".".join(parts))
    return names


def _own_methods(cls):
    """Public methods (and ``__call__``) that ``sklearn_metric`` defines on cls."""
    methods = {}
    for name in dir(cls):
        if name.startswith("_") and name != "__call__":
            continue
        attr = inspect.getattr_static(cls, name)
        func = getattr(attr, "__func__", attr)
        if not inspect.isfunction(func):
            continue
        if not func.__module__.startswith("sklearn_metric"):
            continue
        methods[name] = func
    return methods


def _documented_callables():
    """``(import path, object)`` of every callable whose docstring is checked."""
    items = {}
    classes = [
        (f"{cls.__module__}.{cls.__qualname__}", cls) for _, cls in all_estimators()
    ] + _public_classes()
    for path, cls in classes:
        items[path] = cls
        for name, func in _own_methods(cls).items():
            items[f"{path}.{name}"] = func
    for _, func in all_functions():
        items[f"{func.__module__}.{func.__qualname__}"] = func
    return sorted(items.items())


DOCUMENTED = _documented_callables()


def _arguments(obj):
    """Names of the arguments a user passes (``self`` and ``cls`` left out)."""
    if inspect.isclass(obj):
        if obj.__init__ is object.__init__:
            return []
        obj = obj.__init__
    parameters = inspect.signature(obj).parameters
    return [name for name in parameters if name not in ("self", "cls")]


def _returns_or_yields(func):
    """Whether the body of func returns a value or yields (nested defs aside)."""
    if inspect.isclass(func):
        return False, False
    try:
        source = textwrap.dedent(inspect.getsource(inspect.unwrap(func)))
    except (OSError, TypeError):
        return False, False
    function = ast.parse(source).body[0]
    returns = yields = False
    stack = list(function.body)
    while stack:
        node = stack.pop()
        if isinstance(
            node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)
        ):
            continue
        if (
            isinstance(node, ast.Return)
            and node.value is not None
            and not (isinstance(node.value, ast.Constant) and node.value.value is None)
        ):
            returns = True
        if isinstance(node, (ast.Yield, ast.YieldFrom)):
            yields = True
        stack.extend(ast.iter_child_nodes(node))
    return returns, yields


def _has_section(doc, title):
    return re.search(rf"^\s*{title}\n\s*-{{{len(title)}}}\s*$", doc, re.MULTILINE)


def test_registry_is_not_empty():
    assert all_estimators(), "no estimator found: the registry is broken"
    assert all_functions(), "no function found: the registry is broken"


@pytest.mark.parametrize("path, obj", DOCUMENTED, ids=[path for path, _ in DOCUMENTED])
def test_docstring_sections(path, obj):
    doc = inspect.getdoc(obj)
    assert doc and doc.strip(), f"{path} has no docstring"
    if _arguments(obj):
        assert _has_section(doc, "Parameters"), f"{path}: no Parameters section"
    returns, yields = _returns_or_yields(obj)
    if returns and obj.__name__ != "__init__":
        assert _has_section(doc, "Returns"), f"{path}: no Returns section"
    if yields:
        assert _has_section(doc, "Yields"), f"{path}: no Yields section"


@pytest.mark.parametrize("path, obj", DOCUMENTED, ids=[path for path, _ in DOCUMENTED])
def test_docstring_numpydoc(path, obj):
    numpydoc_validate = pytest.importorskip("numpydoc.validate")
    result = numpydoc_validate.validate(path)
    errors = [
        f"{code}: {message}"
        for code, message in result["errors"]
        if code in NUMPYDOC_CHECKS
    ]
    assert not errors, f"{path}:\n" + "\n".join(errors)


# Sphinx roles and directives that docstrings use; docutils alone knows none of
# them, so the check below renders them as plain literals and containers.
SPHINX_ROLES = [
    "attr",
    "class",
    "const",
    "data",
    "doc",
    "exc",
    "func",
    "meth",
    "mod",
    "obj",
    "ref",
    "term",
]
SPHINX_DIRECTIVES = [
    "autosummary",
    "deprecated",
    "index",
    "only",
    "plot",
    "seealso",
    "versionadded",
    "versionchanged",
]


@pytest.fixture(scope="module")
def rst_checker():
    """Render a docstring as numpydoc does and collect docutils' complaints.

    This catches the reStructuredText errors that fail the Sphinx build (such
    as a bare ``n_features_in_``, which reST reads as a link to a target
    ``n_features_in``) without building the documentation.
    """
    pytest.importorskip("numpydoc")
    pytest.importorskip("docutils")
    import io

    from docutils import nodes
    from docutils.core import publish_doctree
    from docutils.parsers.rst import Directive, directives, roles
    from numpydoc.docscrape_sphinx import get_doc_object

    def literal_role(name, rawtext, text, lineno, inliner, options=None, content=None):
        return [nodes.literal(rawtext, text)], []

    class AnyOption(dict):
        def __contains__(self, key):
            return True

        def __getitem__(self, key):
            return directives.unchanged

    class Container(Directive):
        has_content = True
        optional_arguments = 10
        final_argument_whitespace = True
        option_spec = AnyOption()

        def run(self):
            node = nodes.container()
            self.state.nested_parse(self.content, self.content_offset, node)
            return [node]

    for role in SPHINX_ROLES:
        roles.register_local_role(role, literal_role)
        roles.register_local_role(f"py:{role}", literal_role)
    for directive in SPHINX_DIRECTIVES:
        directives.register_directive(directive, Container)

    def check(obj):
        doc = get_doc_object(obj, config={"show_class_members": False})
        # The documentation's default role (conf.py) is "literal".
        text = ".. default-role:: literal\n\n" + str(doc)
        stream = io.StringIO()
        publish_doctree(
            text,
            settings_overrides={
                "warning_stream": stream,
                "report_level": 2,
                "halt_level": 5,
            },
        )
        return stream.getvalue()

    return check


@pytest.mark.parametrize("path, obj", DOCUMENTED, ids=[path for path, _ in DOCUMENTED])
def test_docstring_is_valid_rst(path, obj, rst_checker):
    problems = rst_checker(obj)
    assert not problems, (
        f"{path}: the rendered docstring is not valid reStructuredText (line "
        f"numbers count from the numpydoc rendering):\n{problems}"
    )


@pytest.mark.parametrize(
    "path",
    sorted(PACKAGE_DIR.rglob("*.py")),
    ids=lambda path: str(path.relative_to(PACKAGE_DIR.parent)),
)
def test_module_docstring(path):
    # Parsed rather than imported: importing __main__ would run the command.
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docstring = ast.get_docstring(tree)
    assert docstring and docstring.strip(), f"{path} has no module docstring"


def test_examples_exist():
    assert EXAMPLES, "no example script found in examples/"


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda path: path.name)
def test_example_runs(path, monkeypatch, tmp_path):
    monkeypatch.setenv("MPLBACKEND", "Agg")
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    monkeypatch.chdir(tmp_path)  # anything an example writes lands here
    try:
        runpy.run_path(str(path), run_name="__main__")
    finally:
        plt.close("all")


@pytest.mark.parametrize(
    "path", DOC_PAGES, ids=lambda path: str(path.relative_to(ROOT / "docs"))
)
def test_doc_page_sessions(path):
    result = doctest.testfile(
        str(path),
        module_relative=False,
        verbose=False,
        report=True,
        optionflags=doctest.NORMALIZE_WHITESPACE | doctest.ELLIPSIS,
    )
    assert result.failed == 0, f"{result.failed} failing >>> example(s) in {path}"


# A cross-reference role in a docstring: :class:`~a.b.C`, :meth:`f`, ...
_ROLE = re.compile(r":(?:py:)?(?:class|func|meth|attr|data|obj|mod|exc):`([^`]+)`")
# A label defined in a hand-written page: ".. _name:" at the start of a line.
_LABEL = re.compile(r"^\.\. _([\w-]+):\s*$", re.MULTILINE)
# The sentence that sends the reader to the user guide, as scikit-learn writes it.
_USER_GUIDE = re.compile(r"Read more in the :ref:`User Guide <([\w-]+)>`")


def _role_target(text):
    """The object a role points at: ``text`` or the part inside ``<...>``."""
    target = re.search(r"<([^>]+)>", text)
    return (target.group(1) if target else text).lstrip("~!.").strip()


@pytest.mark.parametrize("path, obj", DOCUMENTED, ids=[path for path, _ in DOCUMENTED])
def test_docstring_links_no_private_object(path, obj):
    doc = inspect.getdoc(obj) or ""
    private = [
        target
        for target in map(_role_target, _ROLE.findall(doc))
        if any(part.startswith("_") for part in target.split("."))
    ]
    assert not private, f"{path} links private objects: {private}"


ESTIMATORS = all_estimators()


@pytest.mark.parametrize(
    "name, estimator", ESTIMATORS, ids=[name for name, _ in ESTIMATORS]
)
def test_estimator_docstring_names_its_user_guide_section(name, estimator):
    labels = set()
    for page in DOC_PAGES:
        labels.update(_LABEL.findall(page.read_text(encoding="utf-8")))
    found = _USER_GUIDE.findall(inspect.getdoc(estimator) or "")
    assert found, (
        f"{name}'s docstring does not say where the user guide covers it: add "
        "'Read more in the :ref:`User Guide <label>`.' after its summary"
    )
    missing = [label for label in found if label not in labels]
    assert not missing, (
        f"{name} refers to user-guide labels that no page defines: {missing}"
    )


def _public_api_objects():
    """Every registered estimator and public function, once."""
    objects = {cls for _, cls in all_estimators()}
    objects |= {function for _, function in all_functions()}
    return sorted(objects, key=lambda obj: f"{obj.__module__}.{obj.__qualname__}")


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize(
    "obj", _public_api_objects(), ids=lambda obj: f"{obj.__module__}.{obj.__qualname__}"
)
def test_docstring_examples_run(obj):
    # The >>> sessions of a docstring (and of its methods' docstrings) are
    # what a user copies first; they must run and print what they show.
    finder = doctest.DocTestFinder(exclude_empty=True)
    runner = doctest.DocTestRunner(
        optionflags=doctest.NORMALIZE_WHITESPACE | doctest.ELLIPSIS
    )
    module = import_module(obj.__module__)
    for test in finder.find(obj, obj.__qualname__, module=module, globs={}):
        if test.lineno is None and not test.examples:
            continue
        runner.run(test)
    result = runner.summarize(verbose=False)
    assert result.failed == 0, f"{result.failed} failing >>> example(s) in {obj}"
