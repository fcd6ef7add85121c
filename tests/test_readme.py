"""Every code block in the README runs as written, or names the test that covers it.

Each fenced block is preceded by a ``<!-- test: KIND -->`` comment: ``notebook`` blocks run as a
cell on a kernel, ``script`` blocks run with Python, ``pytest`` blocks run as a test file,
``shell`` blocks run with bash (all in one scratch copy of the project's examples, in README
order), and ``covered by PATH::TEST`` names an existing test that shows the block holds.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from helpers import write_code_notebook

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
BLOCK = re.compile(r"<!-- test: (?P<kind>[^>]*?) -->\n```(?P<lang>\w*)\n(?P<code>.*?)\n```", re.S)
FENCE = re.compile(r"^```\w+", re.M)


@dataclass(frozen=True)
class Block:
    index: int
    kind: str
    code: str

    @property
    def id(self) -> str:
        return f"{self.index}-{self.kind.split()[0]}"


def blocks() -> list[Block]:
    text = README.read_text()
    return [
        Block(index, match["kind"], match["code"])
        for index, match in enumerate(BLOCK.finditer(text))
    ]


def test_every_code_block_says_how_it_is_tested():
    opened = len(FENCE.findall(README.read_text()))
    assert len(blocks()) == opened


@pytest.mark.parametrize(
    "block", [b for b in blocks() if b.kind.startswith("covered by")], ids=lambda b: b.id
)
def test_covered_blocks_name_a_test_that_exists(block):
    target = block.kind.removeprefix("covered by").strip()
    path, _, name = target.partition("::")
    assert (ROOT / path).exists(), target
    if name:
        assert re.search(rf"def {re.escape(name)}\(", (ROOT / path).read_text()), target


RUNNABLE = [b for b in blocks() if b.kind in ("notebook", "script", "pytest", "shell")]


@pytest.fixture(scope="module")
def workspace(tmp_path_factory):
    """A scratch folder holding a copy of the examples, shared by the blocks in README order."""
    folder = tmp_path_factory.mktemp("readme")
    shutil.copytree(ROOT / "example_notebooks", folder / "example_notebooks")
    return folder


def run(command: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    env.pop("PYTEST_ADDOPTS", None)
    return subprocess.run(
        command, check=False, cwd=cwd, env=env, capture_output=True, text=True, timeout=300
    )


@pytest.mark.kernel
@pytest.mark.slow
def test_readme_blocks_run_in_order(workspace):
    """One test, because the blocks build on each other (a later one reads what an earlier one
    executed), as they do for a reader going down the page."""
    for block in RUNNABLE:
        run_block(block, workspace)


def run_block(block: Block, workspace: Path) -> None:
    if block.kind == "notebook":
        from pytest_nbscrap import execute_notebook

        path = write_code_notebook(workspace / f"readme_{block.index}.ipynb", block.code)
        execute_notebook(path, timeout=120)
        return
    if block.kind == "script":
        result = run([sys.executable, "-c", block.code], workspace)
    elif block.kind == "pytest":
        (workspace / f"test_readme_{block.index}.py").write_text(block.code)
        command = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider"]
        result = run([*command, f"test_readme_{block.index}.py"], workspace)
    else:
        result = run(["bash", "-euo", "pipefail", "-c", block.code], workspace)
    assert result.returncode == 0, (
        f"README block {block.id} failed:\n{block.code}\n---\n"
        + result.stdout[-3000:]
        + result.stderr[-3000:]
    )
