"""Importing the package (inside a kernel) or loading the plugin must stay cheap."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

HEAVY = ["papermill", "nbformat", "nbclient", "jsonschema", "pandas", "pyarrow", "jupyter_client"]


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
    path = tmp_path / "nb.ipynb"
    path.write_text(json.dumps({"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": []}))
    loaded = modules_after(f"import pytest_nbscrap as sb; sb.read_notebook({str(path)!r}).scraps")
    assert [name for name in HEAVY if name in loaded] == []
