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
    # What type checkers see (they cannot follow __getattr__); an alias re-exports a name.
    from . import encoders as encoders
    from . import export as export
    from . import plugin as plugin
    from ._engine import (
        ExecutionSession as ExecutionSession,
    )
    from ._errors import (
        CellExecutionError as CellExecutionError,
    )
    from ._errors import (
        CellTimeoutError as CellTimeoutError,
    )
    from ._errors import (
        EncoderError as EncoderError,
    )
    from ._errors import (
        ExecutionError as ExecutionError,
    )
    from ._errors import (
        KernelDiedError as KernelDiedError,
    )
    from ._errors import (
        KernelNotFoundError as KernelNotFoundError,
    )
    from ._errors import (
        NbScrapError as NbScrapError,
    )
    from ._errors import (
        NoEncoderError as NoEncoderError,
    )
    from ._errors import (
        NoKernelWarning as NoKernelWarning,
    )
    from ._errors import (
        NotebookNotFoundError as NotebookNotFoundError,
    )
    from ._errors import (
        NotebookReadError as NotebookReadError,
    )
    from ._errors import (
        ParameterError as ParameterError,
    )
    from ._errors import (
        ScrapDecodeError as ScrapDecodeError,
    )
    from ._errors import (
        ScrapError as ScrapError,
    )
    from ._errors import (
        ScrapNotFoundError as ScrapNotFoundError,
    )
    from ._errors import (
        StorageAccessError as StorageAccessError,
    )
    from ._errors import (
        StorageError as StorageError,
    )
    from ._errors import (
        StorageNotFoundError as StorageNotFoundError,
    )
    from ._errors import (
        UnknownEncoderError as UnknownEncoderError,
    )
    from ._errors import (
        UnknownParameterWarning as UnknownParameterWarning,
    )
    from ._errors import (
        UsageError as UsageError,
    )
    from ._executor import (
        execute_notebook as execute_notebook,
    )
    from ._glue import (
        glue as glue,
    )
    from ._reader import (
        Notebook as Notebook,
    )
    from ._reader import (
        read_notebook as read_notebook,
    )
    from ._scrapbook import (
        Scrapbook as Scrapbook,
    )
    from ._scrapbook import (
        read_notebooks as read_notebooks,
    )
    from ._scraps import (
        Scrap as Scrap,
    )
    from ._scraps import (
        Scraps as Scraps,
    )
    from .encoders import (
        Encoder as Encoder,
    )
    from .encoders import (
        EncoderRegistry as EncoderRegistry,
    )
    from .encoders import (
        lookup_encoder as lookup_encoder,
    )
    from .encoders import (
        register_encoder as register_encoder,
    )
    from .encoders import (
        unregister_encoder as unregister_encoder,
    )

__version__ = "0.1.0"

# Every public name, by topic, and the private module that holds it: the one list of the
# package's names (``__all__`` is its keys, in this order).
_LOCATIONS: dict[str, str] = {
    # in a notebook
    "glue": "_glue",
    # reading
    "read_notebook": "_reader",
    "read_notebooks": "_scrapbook",
    "Notebook": "_reader",
    "Scrapbook": "_scrapbook",
    "Scrap": "_scraps",
    "Scraps": "_scraps",
    # running
    "execute_notebook": "_executor",
    "ExecutionSession": "_engine",
    # encoders
    "Encoder": "encoders",
    "EncoderRegistry": "encoders",
    "register_encoder": "encoders",
    "unregister_encoder": "encoders",
    "lookup_encoder": "encoders",
    # errors and warnings
    "NbScrapError": "_errors",
    "UsageError": "_errors",
    "NotebookReadError": "_errors",
    "NotebookNotFoundError": "_errors",
    "StorageError": "_errors",
    "StorageAccessError": "_errors",
    "StorageNotFoundError": "_errors",
    "ScrapError": "_errors",
    "ScrapNotFoundError": "_errors",
    "EncoderError": "_errors",
    "NoEncoderError": "_errors",
    "UnknownEncoderError": "_errors",
    "ScrapDecodeError": "_errors",
    "ExecutionError": "_errors",
    "ParameterError": "_errors",
    "KernelNotFoundError": "_errors",
    "CellExecutionError": "_errors",
    "CellTimeoutError": "_errors",
    "KernelDiedError": "_errors",
    "UnknownParameterWarning": "_errors",
    "NoKernelWarning": "_errors",
}

#: Submodules that are public on purpose, loaded on first attribute access.
_PUBLIC_MODULES = frozenset({"encoders", "export", "plugin"})

__all__ = list(_LOCATIONS)


def __getattr__(name: str) -> Any:
    if name in _PUBLIC_MODULES:
        return import_module(f".{name}", __name__)
    module = _LOCATIONS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(f".{module}", __name__), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__, *_PUBLIC_MODULES})
