"""The house keeps its shape: no god modules, and tests that share fixtures through conftest.

The layers between apps and between doors and domain are import-linter's contracts
(`[tool.importlinter]` in pyproject.toml) and the types (mypy), which `make lint` checks.
"""

import ast
from pathlib import Path

from django.conf import settings

ROOT = Path(settings.BASE_DIR)
TESTS = ROOT / "tests"
MAX_MODULE_LINES = 500

# Folders whose Python is not held to the line limit: data migrations and generated schema
# history, the tests themselves, benchmarks, and everything that is not our source.
EXEMPT_FOLDERS = {"migrations", "tests", "bench", "node_modules", "var", "__pycache__"}
# Demo data and management commands (scripts run by hand or by `make run`) are long by nature.
EXEMPT_FILE_NAMES = {"demo.py"}


def _is_exempt(path: Path) -> bool:
    relative = path.relative_to(ROOT)
    folders = relative.parts[:-1]
    if any(part.startswith(".") or part in EXEMPT_FOLDERS for part in folders):
        return True
    if "management" in folders and "commands" in folders:
        return True
    return relative.name in EXEMPT_FILE_NAMES


def _line_count(path: Path) -> int:
    with path.open(encoding="utf-8") as source:
        return sum(1 for _line in source)


def test_no_module_is_longer_than_500_lines():
    too_long = sorted(
        (str(path.relative_to(ROOT)), lines)
        for path in ROOT.rglob("*.py")
        if not _is_exempt(path) and (lines := _line_count(path)) > MAX_MODULE_LINES
    )

    assert not too_long, (
        f"Split these modules by job (at most {MAX_MODULE_LINES} lines each): "
        + ", ".join(f"{name} ({lines} lines)" for name, lines in too_long)
    )


def _test_folders() -> list[Path]:
    return sorted(
        folder
        for folder in [TESTS, *TESTS.rglob("*")]
        if folder.is_dir() and folder.name != "__pycache__" and any(folder.glob("test_*.py"))
    )


def test_every_test_folder_has_its_conftest():
    missing = [
        str(folder.relative_to(ROOT))
        for folder in _test_folders()
        if not (folder / "conftest.py").exists()
    ]

    assert not missing, f"Shared fixtures belong in a conftest.py; add one to: {missing}"


def _parse(source: str, filename: str = "<unknown>") -> ast.Module:
    # Python 3.11 keeps the AST converter's recursion depth in state shared between threads
    # (CPython gh-106905): when a live Celery worker thread formats a traceback at the same
    # moment (3.11's traceback parses the failing line for its carets), ast.parse here raises
    # "AST constructor recursion depth mismatch". The race is momentary; parse again.
    for _attempt in range(4):
        try:
            return ast.parse(source, filename=filename)
        except SystemError:
            continue
    return ast.parse(source, filename=filename)


def _imported_modules(path: Path) -> set[str]:
    tree = _parse(path.read_text(encoding="utf-8"), filename=str(path))
    modules: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = "." * node.level + (node.module or "")
            modules.add(base)
            # `from . import test_orders` names the module in the alias.
            modules.update(f"{base}.{alias.name}" for alias in node.names)
    return modules


def test_no_test_module_imports_from_another_test_module():
    # A fixture imported from a sibling test module runs that module's tests' setup in the
    # wrong place and needs a `noqa: F401`; it belongs in the folder's conftest.py.
    offenders = sorted(
        f"{path.relative_to(ROOT)} imports {module}"
        for path in TESTS.rglob("*.py")
        for module in _imported_modules(path)
        if module.rsplit(".", 1)[-1].startswith("test_")
    )

    assert not offenders, "Move shared fixtures into conftest.py: " + "; ".join(offenders)


def test_every_setting_read_from_the_environment_is_listed_in_env_example():
    """A setting nobody can find is a setting nobody tunes: each `env_*("NAME", ...)` of
    config/settings.py and config/business_settings.py has its line, with its unit, in
    .env.example."""
    read = {
        call.args[0].value
        for module in ("settings.py", "business_settings.py")
        for call in ast.walk(_parse((ROOT / "config" / module).read_text(encoding="utf-8")))
        if isinstance(call, ast.Call)
        and isinstance(call.func, ast.Name)
        and call.func.id.startswith("env_")
        and call.args
        and isinstance(call.args[0], ast.Constant)
    }
    listed = {
        line.lstrip("# ").split("=", 1)[0]
        for line in (ROOT / ".env.example").read_text(encoding="utf-8").splitlines()
        if "=" in line
    }

    assert read, "no env_* calls found in the settings"
    assert sorted(read - listed) == []
