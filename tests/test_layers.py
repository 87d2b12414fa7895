"""The package's layers import only downwards (sim/__init__.py): a model that imported a sweep,
or an experiment that imported a figure, would fail here."""

from __future__ import annotations

import ast
from pathlib import Path

import sim

ROOT = Path(sim.__file__).parent
TOP = {"sim.cli", "sim.commands", "sim.outputs", "sim.terminal"}


def layer(module: str) -> int:
    if module in TOP:
        return 3
    if module.startswith("sim.analysis"):
        return 2
    if module.startswith("sim.experiments"):
        return 1
    return 0


def imports(path: Path) -> set[str]:
    out = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("sim"):
            out.add(node.module)
            # ``from sim import plots`` names a module too.
            out.update(f"{node.module}.{a.name}" for a in node.names if node.module == "sim")
        elif isinstance(node, ast.Import):
            out.update(a.name for a in node.names if a.name.startswith("sim"))
    return out


def test_every_import_goes_down_the_layers():
    wrong = []
    for path in sorted(ROOT.rglob("*.py")):
        rel = path.relative_to(ROOT.parent).with_suffix("")
        module = ".".join(rel.parts).removesuffix(".__init__")
        for target in imports(path):
            if layer(target) > layer(module):
                wrong.append(f"{module} imports {target}")
    assert not wrong, wrong


def test_the_layer_check_sees_a_wrong_import(tmp_path):
    bad = tmp_path / "m.py"
    bad.write_text("def f():\n    from sim.analysis.report import report\n")
    assert any(layer(t) > layer("sim.model") for t in imports(bad))
