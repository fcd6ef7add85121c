"""Shared helpers for the test suite: notebook builders and a capture of glue's outputs."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

pytest_plugins = ["pytester"]


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
