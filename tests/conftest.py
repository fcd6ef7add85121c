"""The suite's shared fixtures: a capture of glue's outputs, and the leftover-kernel check."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import psutil
import pytest
from helpers import RUN, TAG, kill, new_tag, tagged

# Inner pytest runs: `pytester.runpytest()` (in this process: no interpreter to start, nothing
# to import again) wherever no kernel starts. `runpytest_subprocess()` stays where in process
# is not sound: a run that starts kernels (the plugin's SIGTERM handler and the kernels' orphan
# watch are process-wide, and a kernel left by the inner run would be this process's), `-n`
# (xdist's workers must import the plugin in processes of their own), a run that is signalled
# or measured (peak memory), a run whose imports must not land in this `sys.modules`, and a
# run whose output must not name pytester's in-process temporary folder (".../basetemp").
pytest_plugins = ["pytester", "_servers"]


@pytest.fixture
def glued() -> Iterator[Callable[[], list[dict[str, Any]]]]:
    """Runs glue() under an IPython shell and hands back the outputs it published."""
    from IPython.core.interactiveshell import InteractiveShell
    from IPython.utils.capture import capture_output

    InteractiveShell.instance()
    with capture_output() as captured:

        def outputs() -> list[dict[str, Any]]:
            return [
                {"output_type": "display_data", "data": out.data, "metadata": out.metadata}
                for out in captured.outputs
            ]

        yield outputs


@pytest.fixture
def leftover_kernels(
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[Callable[[], list[psutil.Process]]]:
    """Tags what the test starts from here on (pytest runs, kernels, their children: they
    inherit the environment) and hands back a call listing its kernels still alive.

    After the test (its own checks done), every process a test of this session tagged that is
    still alive is killed, so a failing test leaves no kernel for the next one to find.
    """
    tag = new_tag()
    monkeypatch.setenv(TAG, tag)

    def kernels() -> list[psutil.Process]:
        found = []
        for process in tagged(lambda found: found == tag):
            try:
                if "ipykernel" in " ".join(process.cmdline()):
                    found.append(process)
            except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
                continue
        return found

    yield kernels
    kill(tagged(lambda found: found.startswith(RUN)))
