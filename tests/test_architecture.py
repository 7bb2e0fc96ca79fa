"""The import structure: dependencies flow one way (CLI / API → reporting, serving → running → config
→ models → data), no import circles, no module much over 400 lines.

Imports are read from the source (inside functions too), so a lazy import that runs upward counts.
"""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# Where each installed package's code lives in the repository (pyproject's package-dir mapping).
PACKAGE_DIRS = {"embedlab.data": "data", "embedlab.models": "models", "embedlab.experiments": "experiments",
                "embedlab": "embedlab"}
# Lower layers never import higher ones; siblings (reporting, serving) do not import each other.
LAYERS = [("embedlab.data",), ("embedlab.models",), ("embedlab.experiments.config",),
          ("embedlab.experiments.running",), ("embedlab.experiments.reporting", "embedlab.experiments.serving"),
          ("embedlab.experiments.cli", "embedlab.experiments.commands", "embedlab")]
MAX_LINES = 450


def _modules() -> dict[str, Path]:
    modules = {}
    for package, folder in PACKAGE_DIRS.items():
        for path in (ROOT / folder).rglob("*.py"):
            parts = path.relative_to(ROOT / folder).with_suffix("").parts
            if parts[-1] == "__init__":
                parts = parts[:-1]
            name = ".".join((package, *parts))
            modules.setdefault(name, path)
    return modules


def _imports(path: Path, name: str) -> set[str]:
    found = set()
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1] + ([base] if base else []))
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)  # `from pkg import module`
    return {m for m in found if m.startswith("embedlab")}


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    return {name: {m for m in _imports(path, name) if m in modules and m != name} for name, path in modules.items()}


def _layer(module: str) -> int:
    best = None
    for level, prefixes in enumerate(LAYERS):
        for prefix in prefixes:
            if module == prefix or module.startswith(prefix + "."):
                if best is None or len(prefix) > best[1]:
                    best = (level, len(prefix), prefix)
    assert best is not None, f"{module} is in no layer"
    return best[0]


def _group(module: str) -> str:
    return next(p for level in LAYERS for p in level if module == p or module.startswith(p + "."))


def test_imports_flow_down_the_layers():
    upward = []
    for module, targets in _graph().items():
        if module == "embedlab" or module.startswith("embedlab.experiments.__init__"):
            continue
        for target in targets:
            if target == "embedlab":
                continue
            if _layer(target) > _layer(module):
                upward.append(f"{module} -> {target}")
            elif _layer(target) == _layer(module) and _group(target) != _group(module) and _layer(module) == 4:
                upward.append(f"{module} -> {target} (sibling stages)")
    assert not upward, "imports against the layers:\n" + "\n".join(sorted(upward))


def test_no_import_circles():
    graph = _graph()
    index, low, stack, on_stack, circles = {}, {}, [], set(), []

    def visit(node):  # Tarjan's strongly connected components
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in graph.get(node, ()):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                item = stack.pop()
                on_stack.discard(item)
                component.append(item)
                if item == node:
                    break
            if len(component) > 1:
                circles.append(sorted(component))

    for node in graph:
        if node not in index:
            visit(node)
    assert not circles, f"import circles: {circles}"


@pytest.mark.parametrize("name", sorted(_modules()))
def test_modules_stay_short(name):
    lines = _modules()[name].read_text(encoding="utf-8").count("\n")
    assert lines <= MAX_LINES, f"{name}: {lines} lines; split it by concern"


def test_the_checks_see_a_violation(tmp_path):
    """The layer check is not vacuous: a data module importing the runner is caught."""
    assert _layer("embedlab.data.vectors") < _layer("embedlab.experiments.running.runner")
    assert _imports(ROOT / "experiments" / "running" / "train.py", "embedlab.experiments.running.train") >= {
        "embedlab.experiments.running.prepare"}
