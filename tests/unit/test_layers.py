"""Architecture rules of DESIGN.md §6 and §2.13, checked by parsing every module's imports.

- Layers: a module imports only from its own or lower layers (relative imports and
  ``importlib.import_module("oligosim....")`` with a literal name included).
- Engine isolation: ``oligosim.engine.*`` imports nothing from ``oligosim`` except
  ``oligosim.engine.*`` and ``oligosim.errors``.
- No global ``np.random`` / ``numpy.random`` anywhere in the package (tests are not scanned).

The package root ``oligosim/__init__.py`` (the public API) may import anything; importing the
root from inside the package is treated as importing the top layer, so it is refused.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

import pytest

PACKAGE = "oligosim"
PACKAGE_DIR = Path(__file__).resolve().parents[2] / PACKAGE

#: Layer of each package part (DESIGN.md §6). The longest matching prefix wins.
LAYERS: dict[str, int] = {
    "oligosim.errors": 0,
    "oligosim.engine._jit": 0,
    "oligosim.params": 1,
    "oligosim.scenario": 1,
    "oligosim.engine": 2,
    "oligosim.reference": 2,
    "oligosim.outcomes": 3,
    "oligosim.calibration": 4,
    "oligosim.psa": 4,
    "oligosim.runner": 4,
    "oligosim.report": 5,
    "oligosim.cli": 5,
    "oligosim.__main__": 5,
}
#: The public API (``oligosim/__init__.py``) sits above every layer.
ROOT_LAYER = 6
#: What ``oligosim.engine.*`` may import from the package.
ENGINE_ALLOWED = ("oligosim.engine", "oligosim.errors")


@dataclass(frozen=True)
class Violation:
    """One broken rule: where, what was imported and why it is not allowed."""

    path: str
    line: int
    target: str
    reason: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.target} -- {self.reason}"


def _within(name: str, prefix: str) -> bool:
    """True if module ``name`` is ``prefix`` or inside it."""
    return name == prefix or name.startswith(prefix + ".")


def layer_of(module: str) -> int | None:
    """Layer of an ``oligosim`` module; ``ROOT_LAYER`` for the root, None if unassigned."""
    if module == PACKAGE:
        return ROOT_LAYER
    matches = [p for p in LAYERS if _within(module, p)]
    return LAYERS[max(matches, key=len)] if matches else None


def module_name(path: Path, package_dir: Path) -> tuple[str, bool]:
    """Dotted module name of ``path`` and whether it is a package ``__init__``."""
    rel = path.relative_to(package_dir.parent).with_suffix("")
    parts = list(rel.parts)
    is_package = parts[-1] == "__init__"
    if is_package:
        parts.pop()
    return ".".join(parts), is_package


def _is_module(name: str, package_dir: Path) -> bool:
    """True if dotted ``name`` is a module or package file under ``package_dir``."""
    rel = Path(*name.split(".")[1:]) if "." in name else Path()
    base = package_dir / rel
    return base.with_suffix(".py").is_file() or base.is_dir()


def imported_modules(
    tree: ast.AST, module: str, is_package: bool, package_dir: Path
) -> list[tuple[int, str]]:
    """Every ``oligosim`` module imported by a parsed module, with its line number.

    ``from pkg import name`` counts as importing ``pkg.name`` when that is a module, else
    ``pkg``. Relative imports are resolved against the importing module's package.
    """
    found: list[tuple[int, str]] = []
    current_pkg = module if is_package else module.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, a.name) for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base_parts = current_pkg.split(".")
                base_parts = base_parts[: len(base_parts) - (node.level - 1)]
                base = ".".join(base_parts)
                source = f"{base}.{node.module}" if node.module else base
            else:
                source = node.module or ""
            for alias in node.names:
                candidate = f"{source}.{alias.name}"
                is_sub = _within(candidate, PACKAGE) and _is_module(candidate, package_dir)
                found.append((node.lineno, candidate if is_sub else source))
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "import_module"
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            found.append((node.lineno, node.args[0].value))
    return [(line, name) for line, name in found if _within(name, PACKAGE)]


def numpy_random_uses(tree: ast.AST) -> list[tuple[int, str]]:
    """Every use of ``numpy.random`` in a parsed module, with its line number.

    Catches ``np.random.<anything>`` (whatever alias numpy is imported under),
    ``import numpy.random``, ``from numpy import random`` and ``from numpy.random import``.
    """
    numpy_aliases = {"numpy"}
    uses: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name == "numpy":
                    numpy_aliases.add(alias.asname or "numpy")
                elif _within(alias.name, "numpy.random"):
                    uses.append((node.lineno, f"import {alias.name}"))
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            if _within(node.module, "numpy.random"):
                uses.append((node.lineno, f"from {node.module} import ..."))
            elif node.module == "numpy" and any(a.name == "random" for a in node.names):
                uses.append((node.lineno, "from numpy import random"))
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Attribute)
            and node.attr == "random"
            and isinstance(node.value, ast.Name)
            and node.value.id in numpy_aliases
        ):
            uses.append((node.lineno, f"{node.value.id}.random"))
    return sorted(set(uses))


def check_package(package_dir: Path) -> list[Violation]:
    """All layer, engine-isolation and ``np.random`` violations under ``package_dir``."""
    violations: list[Violation] = []
    for path in sorted(package_dir.rglob("*.py")):
        module, is_package = module_name(path, package_dir)
        shown = str(path.relative_to(package_dir.parent))
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=shown)
        for line, use in numpy_random_uses(tree):
            violations.append(Violation(shown, line, use, "global numpy.random is banned "
                                        "(DESIGN.md §2.13); use the Philox streams"))
        if module == PACKAGE:
            continue  # the public API may import every layer
        own = layer_of(module)
        if own is None:
            violations.append(Violation(shown, 1, module, "module has no layer; add its "
                                        "package part to DESIGN.md §6 and this test"))
            continue
        for line, target in imported_modules(tree, module, is_package, package_dir):
            target_layer = layer_of(target)
            if target_layer is None:
                violations.append(Violation(shown, line, target, "imported module has no layer"))
            elif target_layer > own:
                violations.append(Violation(
                    shown, line, target,
                    f"layer {own} module imports layer {target_layer} (DESIGN.md §6)"))
            if _within(module, "oligosim.engine") and not any(
                _within(target, allowed) for allowed in ENGINE_ALLOWED
            ):
                violations.append(Violation(
                    shown, line, target,
                    "engine modules import only oligosim.engine.* and oligosim.errors"))
    return violations


def _report(violations: list[Violation]) -> str:
    return f"{len(violations)} violation(s):\n" + "\n".join(str(v) for v in violations)


def test_package_respects_layers_and_bans_global_random() -> None:
    """Every module in oligosim/ follows DESIGN.md §6 layering and §2.13 (no np.random)."""
    assert PACKAGE_DIR.is_dir(), f"package not found at {PACKAGE_DIR}"
    violations = check_package(PACKAGE_DIR)
    assert not violations, _report(violations)


# --------------------------------------------------------------------------------------
# The checker itself, on a throw-away package.
# --------------------------------------------------------------------------------------

def _make_package(root: Path, files: dict[str, str]) -> Path:
    package_dir = root / PACKAGE
    for rel, text in files.items():
        path = package_dir / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return package_dir


_CLEAN = {
    "__init__.py": "from oligosim.report import plots\nfrom oligosim.cli import main\n",
    "errors.py": "class E(Exception): ...\n",
    "engine/__init__.py": "",
    "engine/_jit.py": "import numpy as np\nFLOAT = np.float64\n",
    "engine/kernels.py": "from oligosim.engine._jit import FLOAT\nfrom . import rng\n"
                         "from ..errors import E\n",
    "engine/rng.py": "import numpy as np\n",
    "params/__init__.py": "from oligosim.engine._jit import FLOAT\nfrom oligosim import errors\n",
    "outcomes/__init__.py": "from .survival import f\n",
    "outcomes/survival.py": "import oligosim.engine.kernels\nfrom oligosim.params import x\n"
                            "def f():\n    import importlib\n"
                            "    return importlib.import_module('oligosim.scenario')\n",
    "scenario/__init__.py": "",
    "report/plots.py": "from oligosim.outcomes import survival\n",
    "cli.py": "from oligosim.report.plots import *\n",
}


def test_checker_accepts_a_clean_package(tmp_path: Path) -> None:
    """Downward, same-layer, relative and root-API imports pass."""
    violations = check_package(_make_package(tmp_path, _CLEAN))
    assert not violations, _report(violations)


@pytest.mark.parametrize(
    ("rel", "text", "line", "target"),
    [
        ("outcomes/bad.py", "x = 1\nfrom oligosim.report import plots\n", 2,
         "oligosim.report.plots"),
        ("outcomes/bad.py", "from ..cli import main\n", 1, "oligosim.cli"),
        ("params/bad.py", "import oligosim.engine.kernels as k\n", 1, "oligosim.engine.kernels"),
        ("errors.py", "from oligosim.params import p\n", 1, "oligosim.params"),
        ("engine/bad.py", "from oligosim.params import p\n", 1, "oligosim.params"),
        ("engine/bad.py", "from oligosim import scenario\n", 1, "oligosim.scenario"),
        ("engine/_jit.py", "from oligosim.engine import kernels\n", 1,
         "oligosim.engine.kernels"),
        ("outcomes/bad.py", "from oligosim import run_scenario\n", 1, "oligosim"),
        ("outcomes/bad.py", "def f():\n    import importlib\n"
         "    return importlib.import_module('oligosim.cli')\n", 3, "oligosim.cli"),
        ("misc.py", "", 1, "oligosim.misc"),
    ],
)
def test_checker_reports_bad_imports(
    tmp_path: Path, rel: str, text: str, line: int, target: str
) -> None:
    """Upward imports, engine escapes and unassigned modules are reported with file and line."""
    violations = check_package(_make_package(tmp_path, {**_CLEAN, rel: text}))
    shown = f"{PACKAGE}/{rel}"
    assert any((v.path, v.line, v.target) == (shown, line, target) for v in violations), \
        _report(violations)


@pytest.mark.parametrize(
    "text",
    [
        "import numpy as np\nnp.random.seed(1)\n",
        "import numpy\nx = numpy.random.default_rng(1)\n",
        "import numpy as xp\ng = xp.random.Philox(1)\n",
        "from numpy import random\n",
        "from numpy.random import Philox\n",
        "import numpy.random\n",
    ],
)
def test_checker_reports_numpy_random(tmp_path: Path, text: str) -> None:
    """Any reach into numpy.random inside the package is reported."""
    violations = check_package(_make_package(tmp_path, {**_CLEAN, "engine/rng.py": text}))
    assert any(v.path == f"{PACKAGE}/engine/rng.py" and "numpy.random" in v.reason
               for v in violations), _report(violations)
