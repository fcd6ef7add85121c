"""pytest-nbscrap: glue values in notebooks, run them with parameters, test what they computed.

Importing the package is cheap (it runs inside user kernels): every public name is loaded on
first use, and nothing imports papermill, nbformat, nbclient, jsonschema or pandas up front.

The modules that hold the code are private (``_glue``, ``_reader``, ...), as in pluggy: a public
name never shares its name with a module, so importing a submodule can never replace, say,
the ``glue`` function with the ``glue`` module. The public submodules are ``encoders``
(scrapbook's ``sb.encoders.registry``), ``export`` (templates) and ``plugin`` (the entry point).
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from . import encoders as encoders
    from . import export as export
    from . import plugin as plugin
    from ._engine import ExecutionSession
    from ._errors import (
        CellExecutionError,
        CellTimeoutError,
        EncoderError,
        ExecutionError,
        KernelDiedError,
        KernelNotFoundError,
        NbScrapError,
        NoEncoderError,
        NoKernelWarning,
        NotebookNotFoundError,
        NotebookReadError,
        ParameterError,
        ScrapDecodeError,
        ScrapError,
        ScrapNotFoundError,
        UnknownEncoderError,
        UnknownParameterWarning,
        UsageError,
    )
    from ._executor import execute_notebook
    from ._glue import glue
    from ._reader import Notebook, Scrapbook, read_notebook, read_notebooks
    from ._scraps import Scrap, Scraps
    from .encoders import (
        Encoder,
        EncoderRegistry,
        lookup_encoder,
        register_encoder,
        unregister_encoder,
    )

__version__ = "0.1.0"

# Which private module holds each public name; the errors and warnings of ``__all__`` are
# all in ``_errors``.
_LOCATIONS = {
    "glue": "_glue",
    "read_notebook": "_reader",
    "read_notebooks": "_reader",
    "Notebook": "_reader",
    "Scrapbook": "_reader",
    "Scrap": "_scraps",
    "Scraps": "_scraps",
    "execute_notebook": "_executor",
    "ExecutionSession": "_engine",
    "Encoder": "encoders",
    "EncoderRegistry": "encoders",
    "register_encoder": "encoders",
    "unregister_encoder": "encoders",
    "lookup_encoder": "encoders",
}

#: Submodules that are public on purpose, loaded on first attribute access.
_PUBLIC_MODULES = frozenset({"encoders", "export", "plugin"})

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
    # errors and warnings
    "NbScrapError",
    "UsageError",
    "NotebookReadError",
    "NotebookNotFoundError",
    "ScrapError",
    "ScrapNotFoundError",
    "EncoderError",
    "NoEncoderError",
    "UnknownEncoderError",
    "ScrapDecodeError",
    "ExecutionError",
    "ParameterError",
    "KernelNotFoundError",
    "CellExecutionError",
    "CellTimeoutError",
    "KernelDiedError",
    "UnknownParameterWarning",
    "NoKernelWarning",
]


def __getattr__(name: str) -> Any:
    if name in _PUBLIC_MODULES:
        return import_module(f".{name}", __name__)
    module = _LOCATIONS.get(name, "_errors" if name in __all__ else None)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(f".{module}", __name__), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__, *_PUBLIC_MODULES})
