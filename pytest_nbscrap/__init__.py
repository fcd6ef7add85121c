"""pytest-nbscrap: glue values in notebooks, run them with parameters, test what they computed.

Importing the package is cheap (it runs inside user kernels): every public name is loaded on
first use, and nothing imports papermill, nbformat, nbclient, jsonschema or pandas up front.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .encoders import (
        Encoder,
        EncoderRegistry,
        lookup_encoder,
        register_encoder,
        unregister_encoder,
    )
    from .engine import ExecutionSession
    from .errors import (
        CellExecutionError,
        CellTimeoutError,
        KernelDiedError,
        KernelNotFoundError,
        NbScrapError,
        NotebookReadError,
        ScrapError,
        ScrapNotFoundError,
    )
    from .executor import execute_notebook
    from .glue import glue
    from .reader import Notebook, Scrapbook, read_notebook, read_notebooks
    from .scraps import Scrap, Scraps

__version__ = "0.1.0"

_LOCATIONS = {
    "glue": "glue",
    "read_notebook": "reader",
    "read_notebooks": "reader",
    "Notebook": "reader",
    "Scrapbook": "reader",
    "Scrap": "scraps",
    "Scraps": "scraps",
    "execute_notebook": "executor",
    "ExecutionSession": "engine",
    "Encoder": "encoders",
    "EncoderRegistry": "encoders",
    "register_encoder": "encoders",
    "unregister_encoder": "encoders",
    "lookup_encoder": "encoders",
    "NbScrapError": "errors",
    "NotebookReadError": "errors",
    "ScrapError": "errors",
    "ScrapNotFoundError": "errors",
    "CellExecutionError": "errors",
    "CellTimeoutError": "errors",
    "KernelDiedError": "errors",
    "KernelNotFoundError": "errors",
}

__all__ = [
    # in a notebook
    "glue",
    # reading
    "read_notebook",
    "read_notebooks",
    "Notebook",
    "Scrapbook",
    "Scrap",
    "Scraps",
    # running
    "execute_notebook",
    "ExecutionSession",
    # encoders
    "Encoder",
    "EncoderRegistry",
    "register_encoder",
    "unregister_encoder",
    "lookup_encoder",
    # errors
    "NbScrapError",
    "NotebookReadError",
    "ScrapError",
    "ScrapNotFoundError",
    "CellExecutionError",
    "CellTimeoutError",
    "KernelDiedError",
    "KernelNotFoundError",
]


def __getattr__(name: str) -> Any:
    module = _LOCATIONS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(f".{module}", __name__), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
