"""A run ends only once a cell's output is complete, or fails saying it was lost.

nbclient waits a fixed few seconds for a cell's output after the kernel's reply, then logs and
moves on: under load a big output was cut off and a scrap glued after it read back stale, on
a green run. Here the wait lasts until the kernel says the cell is done (its idle status on
IOPub); output that never completes is an error naming the cell.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator

import pytest
from helpers import write_code_notebook
from test_executor import kernels_import_this_checkout, our_kernels

from pytest_nbscrap._errors import CellExecutionError
from pytest_nbscrap._executor import execute_notebook
from pytest_nbscrap._reader import read_notebook

# The autouse fixture that lets kernels import this checkout applies here too.
__all__ = ["kernels_import_this_checkout"]

# Enough that reading it takes the loaded test machine well over nbclient's 4 s wait.
CHUNKS = 150
BIG_THEN_FRESH = f"""\
import sys
from pytest_nbscrap import glue
glue("final", "stale")
chunk = "x" * (1 << 20)
for _ in range({CHUNKS}):
    sys.stdout.write(chunk)
    sys.stdout.flush()
glue("final", "fresh")
"""


@pytest.fixture
def cpu_hogs() -> Iterator[None]:
    """Two busy processes beside the run, as on a loaded CI machine."""
    hogs = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(2)]
    try:
        yield
    finally:
        for hog in hogs:
            hog.kill()
            hog.wait()


@pytest.mark.kernel
@pytest.mark.parametrize("attempt", [1, 2, 3])
def test_a_scrap_glued_after_a_big_output_reads_fresh_beside_cpu_hogs(tmp_path, cpu_hogs, attempt):
    output = tmp_path / "out.ipynb"
    nb = execute_notebook(
        write_code_notebook(tmp_path / "nb.ipynb", BIG_THEN_FRESH), output_path=output
    )
    assert nb.scraps["final"].data == "fresh"
    stdout = "".join(
        out["text"] for out in nb.cells[0].outputs if out.get("output_type") == "stream"
    )
    assert len(stdout) == CHUNKS << 20
    assert read_notebook(output).scraps["final"].data == "fresh"


# The cell's idle status never comes: ipykernel publishes it through this method.
NEVER_IDLE = """\
kernel = get_ipython().kernel
kernel._publish_status = lambda *args, **kwargs: None
print("started")
"""


@pytest.mark.kernel
def test_output_that_never_completes_fails_the_cell_as_lost(tmp_path):
    path = write_code_notebook(tmp_path / "nb.ipynb", "x = 1", NEVER_IDLE, "y = 2")
    output = tmp_path / "out.ipynb"
    with pytest.raises(CellExecutionError) as caught:
        execute_notebook(path, output_path=output, timeout=3)
    error = caught.value
    assert type(error) is CellExecutionError
    assert error.cell_number == 2
    assert error.ename == "OutputLost"
    assert str(error).startswith(f"{path}: the output of cell 2 (In [2]) was lost: ")
    assert "did not arrive within 3 s" in str(error)
    kept = read_notebook(output)
    assert kept.cells[1].metadata.papermill["status"] == "failed"
    assert kept.cells[1].outputs[-1]["ename"] == "OutputLost"
    assert kept.cells[2].metadata.papermill["status"] == "pending"
    assert our_kernels() == []
