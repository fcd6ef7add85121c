"""Importing the package (inside a kernel) or loading the plugin must stay cheap."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from helpers import write_notebook

HEAVY = [
    "papermill",
    "nbformat",
    "nbclient",
    "jsonschema",
    "pandas",
    "pyarrow",
    "jupyter_client",
    "fsspec",  # only a URL needs it; local paths keep their own code path
    "coverage",
]


def modules_after(code: str) -> set[str]:
    script = f"import sys, json\n{code}\nprint(json.dumps(sorted(sys.modules)))"
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    return set(json.loads(result.stdout.splitlines()[-1]))


@pytest.mark.parametrize(
    "code",
    [
        "import pytest_nbscrap",
        "import pytest_nbscrap as sb; sb.glue; sb.read_notebook; sb.Scrap; sb.Scraps",
        "import pytest_nbscrap.plugin",
    ],
)
def test_import_loads_no_heavy_dependency(code):
    loaded = modules_after(code)
    assert [name for name in HEAVY if name in loaded] == []


def test_reading_a_notebook_without_dataframes_loads_no_heavy_dependency(tmp_path):
    path = write_notebook(tmp_path / "nb.ipynb")
    loaded = modules_after(f"import pytest_nbscrap as sb; sb.read_notebook({str(path)!r}).scraps")
    assert [name for name in HEAVY if name in loaded] == []


def test_reading_a_local_folder_loads_no_heavy_dependency(tmp_path):
    write_notebook(tmp_path / "a.ipynb")
    loaded = modules_after(f"import pytest_nbscrap as sb; sb.read_notebooks({str(tmp_path)!r})")
    assert [name for name in HEAVY if name in loaded] == []


def test_no_public_name_is_shadowed_by_a_module_once_every_submodule_is_imported():
    # Importing pytest_nbscrap.X sets the package attribute X to the module; a public name
    # called X (the glue function) would then turn into that module.
    script = """
import importlib, json, pkgutil, types
import pytest_nbscrap as sb
for info in pkgutil.walk_packages(sb.__path__, "pytest_nbscrap."):
    importlib.import_module(info.name)
print(json.dumps([n for n in sb.__all__ if isinstance(getattr(sb, n), types.ModuleType)]))
"""
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    assert json.loads(result.stdout.splitlines()[-1]) == []


def test_glue_stays_a_function_after_reglue_imported_its_module(tmp_path):
    path = write_notebook(tmp_path / "nb.ipynb")
    script = f"""
import pytest_nbscrap as sb
import pytest_nbscrap._glue
sb.read_notebook({str(path)!r}).scraps
print(callable(sb.glue), sb.encoders.registry.lookup("json") is not None)
"""
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    assert result.stdout.split() == ["True", "True"]


def test_every_documented_error_and_warning_is_importable_from_the_package():
    import pytest_nbscrap as sb

    for name in ("UnknownParameterWarning", "ParameterError", "CellTimeoutError", "UsageError"):
        assert isinstance(getattr(sb, name), type)


def test_type_checkers_see_every_public_name_the_package_loads():
    # The lazy table serves Python, the TYPE_CHECKING imports serve type checkers (which
    # cannot follow __getattr__): they must name the same things.
    import ast
    from pathlib import Path

    import pytest_nbscrap as sb

    tree = ast.parse(Path(sb.__file__).read_text(encoding="utf-8"))
    guarded = next(
        n for n in tree.body if isinstance(n, ast.If) and "TYPE_CHECKING" in ast.dump(n.test)
    )
    seen = {alias.asname for node in guarded.body for alias in node.names}
    assert seen == {*sb.__all__, *sb._PUBLIC_MODULES}
    assert [name for name in sb.__all__ if getattr(sb, name, None) is None] == []
