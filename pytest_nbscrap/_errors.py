"""One error hierarchy for the whole package.

Every error derives from :class:`NbScrapError`, carries its facts as attributes, reads as one
paragraph through ``str()``, and pickles with those attributes intact, because errors raised in a
pytest-xdist worker are rebuilt in the controller.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, TypeVar

from ._text import last_line, one_line, shorten

if TYPE_CHECKING:
    from ._failure import Failure
    from ._reader import Notebook

__all__ = [
    "CellExecutionError",
    "CellTimeoutError",
    "EncoderError",
    "ExecutionError",
    "KernelDiedError",
    "KernelNotFoundError",
    "NbScrapError",
    "NoEncoderError",
    "NotebookNotFoundError",
    "NotebookReadError",
    "ParameterError",
    "ScrapDecodeError",
    "ScrapError",
    "ScrapNotFoundError",
    "StorageAccessError",
    "StorageError",
    "StorageNotFoundError",
    "UnknownParameterWarning",
    "NoKernelWarning",
    "UnknownEncoderError",
    "UsageError",
]


def _rebuild(cls: type[NbScrapError], message: str, details: dict[str, Any]) -> NbScrapError:
    error = cls.__new__(cls)
    NbScrapError.__init__(error, message, **details)
    return error


def _names(names: Iterable[str]) -> str:
    listed = ", ".join(repr(name) for name in names)
    return listed or "none"


class NbScrapError(Exception):
    """Base of every error this package raises; ``details`` are also set as attributes."""

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.details = details
        for key, value in details.items():
            setattr(self, key, value)

    def __str__(self) -> str:
        return self.message

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild, (type(self), self.message, self.details))


class UsageError(NbScrapError, ValueError):
    """The caller asked for something that cannot work (bad option, missing marker, ...)."""


class NotebookReadError(NbScrapError):
    """A notebook file cannot be read: missing, not JSON, or not a notebook."""

    path: str
    reason: str

    @classmethod
    def from_reason(cls, path: str, reason: str) -> NotebookReadError:
        return cls(f"Cannot read notebook {path}: {reason}", path=path, reason=reason)


class NotebookNotFoundError(NotebookReadError, FileNotFoundError):
    """The notebook file (or folder) is not there; also a :class:`FileNotFoundError`, with
    ``errno`` and ``filename`` set, so code written for scrapbook's reader still catches it."""

    @classmethod
    def from_missing(cls, path: str, reason: str = "no such file") -> NotebookNotFoundError:
        import errno
        import os

        return cls(
            f"Cannot read notebook {path}: {reason}",
            path=path,
            reason=reason,
            errno=errno.ENOENT,
            strerror=os.strerror(errno.ENOENT),
            filename=path,
        )


class StorageError(NotebookReadError, OSError):
    """A notebook URL's store could not be used: it could not be reached, it wants
    credentials, or its fsspec client is not installed. Also an :class:`OSError`, as fsspec's
    own errors are. A missing object is a :class:`NotebookNotFoundError` instead."""

    url: str

    @classmethod
    def from_reason(cls, url: str, reason: str, *, writing: bool = False) -> StorageError:
        verb = "write" if writing else "read"
        return cls(f"Cannot {verb} notebook {url}: {reason}", path=url, url=url, reason=reason)


class StorageAccessError(StorageError, PermissionError):
    """The store refused access to a notebook URL; also a :class:`PermissionError`."""


class StorageNotFoundError(StorageError, NotebookNotFoundError):
    """No object, folder or bucket at a notebook URL; also a :class:`FileNotFoundError`."""

    @classmethod
    def from_url(
        cls, url: str, reason: str = "no such object or bucket", *, writing: bool = False
    ) -> StorageNotFoundError:
        import errno
        import os

        verb = "write" if writing else "read"
        return cls(
            f"Cannot {verb} notebook {url}: {reason}",
            path=url,
            url=url,
            reason=reason,
            errno=errno.ENOENT,
            strerror=os.strerror(errno.ENOENT),
            filename=url,
        )


class ScrapError(NbScrapError, ValueError):
    """A problem with one scrap; the rest of its notebook stays readable.

    Also a ValueError: scrapbook's errors (``ScrapbookException``: a missing scrap on reglue,
    an unknown encoder, bad scrap data) were, and ``except ValueError`` must still catch ours.
    """


class ScrapNotFoundError(ScrapError, KeyError):
    """A scrap name that is not in the notebook; lists the names that are."""

    name: str
    available: tuple[str, ...]

    @classmethod
    def from_names(cls, name: object, available: Iterable[str]) -> ScrapNotFoundError:
        present = tuple(available)
        return cls(
            f"No scrap named {name!r}; the scraps present are: {_names(present)}",
            name=name,
            available=present,
        )


_Encoder = TypeVar("_Encoder", bound="EncoderError")


class EncoderError(ScrapError):
    """An encoder cannot be registered, found or applied."""

    @classmethod
    def _of_scrap(
        cls: type[_Encoder], name: str, encoder: str, problem: str, **details: Any
    ) -> _Encoder:
        """``Scrap 'x' <problem>``, naming the scrap and its encoder."""
        return cls(f"Scrap {name!r} {problem}", name=name, encoder=encoder, **details)


class NoEncoderError(EncoderError, NotImplementedError):
    """No registered encoder accepts a value given to ``glue``."""

    type_name: str
    name: str | None

    @classmethod
    def from_value(cls, value: object, name: str | None = None) -> NoEncoderError:
        # The first sentence is scrapbook's, word for word: code that matches on it still works.
        scrap = f" (scrap {name!r})" if name is not None else ""
        return cls(
            f"Scrap of type {type(value)} has no supported encoder registered{scrap}. "
            'To keep only what it displays (a figure\'s picture), glue it with encoder="display"; '
            "to keep its data, register an encoder for the type",
            type_name=repr(type(value)),
            name=name,
        )


class UnknownEncoderError(EncoderError):
    """A scrap names an encoder that is not registered here."""

    name: str
    encoder: str
    known: tuple[str, ...]

    @classmethod
    def from_scrap(cls, name: str, encoder: str, known: Iterable[str]) -> UnknownEncoderError:
        names = tuple(known)
        return cls._of_scrap(
            name,
            encoder,
            f"uses encoder {encoder!r}, which is not registered (registered: {_names(names)}); "
            "register one to read its data",
            known=names,
        )


class ScrapDecodeError(EncoderError):
    """A scrap's payload does not decode with its encoder (corrupt or foreign data)."""

    name: str
    encoder: str
    reason: str

    @classmethod
    def from_exception(cls, name: str, encoder: str, exc: BaseException) -> ScrapDecodeError:
        # One paragraph, whatever the decoder said (pyarrow's messages end with newlines).
        reason = one_line(f"{type(exc).__name__}: {exc}")
        problem = f"cannot be decoded with encoder {encoder!r}: {reason}"
        return cls._of_scrap(name, encoder, problem, reason=reason)


class ExecutionError(NbScrapError):
    """A notebook could not be executed to the end."""

    path: str

    @classmethod
    def from_kernel_start(
        cls, path: str, kernel_name: str, reason: str, kernel_output: str = ""
    ) -> ExecutionError:
        """The kernel process could not be started, or never answered."""
        last = last_line(kernel_output)
        said = f"; the kernel's last output: {last}" if last else ""
        return cls(
            f"{path}: kernel {kernel_name!r} did not start: {reason}{said}",
            path=path,
            kernel_name=kernel_name,
            reason=reason,
            kernel_output=kernel_output,
        )

    @classmethod
    def from_unsaved(cls, path: str, output_path: str, reason: str) -> ExecutionError:
        """The notebook ran, but the executed notebook could not be written."""
        return cls(
            f"{path}: the notebook ran, but the executed notebook could not be saved to "
            f"{output_path}: {reason}",
            path=path,
            output_path=output_path,
            reason=reason,
        )


class ParameterError(ExecutionError, UsageError):
    """Parameters that cannot be injected into a notebook.

    The value itself is not kept (it may not pickle); ``value_repr`` shows it.
    """

    name: str
    value_repr: str
    reason: str

    @classmethod
    def from_value(cls, path: str, name: str, value: object, reason: str) -> ParameterError:
        try:
            shown = repr(value)
        except (ValueError, RecursionError):  # an int too long for str(), a value too deep
            shown = f"<{type(value).__name__} that repr() cannot show>"
        shown = shorten(shown, 80)
        return cls(
            f"{path}: parameter {name!r} = {shown} cannot be written into the notebook: {reason}",
            path=path,
            name=name,
            value_repr=shown,
            reason=reason,
        )


class KernelNotFoundError(ExecutionError):
    """The kernel a notebook asks for is not installed."""

    kernel_name: str
    available: tuple[str, ...]
    requested_by: str

    @classmethod
    def from_names(
        cls, path: str, kernel_name: str, available: Iterable[str], requested_by: str
    ) -> KernelNotFoundError:
        names = tuple(sorted(available))
        return cls(
            f"{path}: no Jupyter kernel named {kernel_name!r} is installed (asked for by "
            f"{requested_by}); installed kernels: {_names(names)}. Choose one with "
            "kernel_name=NAME (--nbscrap-kernel NAME under pytest), or install the missing "
            "kernel (`jupyter kernelspec list` shows what is installed).",
            path=path,
            kernel_name=kernel_name,
            available=names,
            requested_by=requested_by,
        )


class CellExecutionError(ExecutionError):
    """A cell raised; carries the executed-so-far notebook and the :class:`Failure` it made.

    ``failure`` is the one model of what happened (the exporter reads it); its facts are also
    attributes, as they always were. ``cell_index`` is 0-based in the *source* notebook
    (injected cells not counted) and ``cell_number`` is the same cell 1-based, as shown to
    users; both are None when the failing cell is the injected-parameters cell.
    ``executed_index`` indexes ``notebook.cells``.
    """

    failure: Failure
    output_path: str | None
    notebook: Notebook | None
    cell_index: int | None
    cell_number: int | None
    executed_index: int | None
    execution_count: int | None
    source: str
    ename: str
    evalue: str
    traceback: list[str]
    plain_traceback: str
    save_error: str | None

    @classmethod
    def from_failure(cls, failure: Failure, notebook: Notebook | None = None) -> CellExecutionError:
        """The error for ``failure``: a CellTimeoutError for a timeout, a KernelDiedError for
        a dead kernel, else a CellExecutionError."""
        kind = _KINDS.get(failure.kind, CellExecutionError)
        return kind(
            f"{failure.path}: {kind._happened(failure)}; {_saved(failure)}",
            notebook=notebook,
            failure=failure,
            **kind._facts(failure),
        )

    @staticmethod
    def _happened(failure: Failure) -> str:
        if failure.kind == "lost":
            # The kernel finished the cell, but the rest of its output never arrived: the run
            # fails rather than pass on part of it (a stale scrap, a cut-off stream).
            return (
                f"the output of {failure.where} was lost: the kernel finished the cell, but the "
                f"rest of its output did not arrive within {failure.waited:g} s"
            )
        # str() stays one paragraph; the full value is in ``evalue``.
        evalue = one_line(failure.evalue, 300)
        return f"{failure.where} raised {failure.ename}" + (f": {evalue}" if evalue else "")

    @staticmethod
    def _facts(failure: Failure) -> dict[str, Any]:
        return {
            "path": failure.path,
            "output_path": failure.output_path,
            "cell_index": failure.cell_index,
            "cell_number": failure.cell_number,
            "executed_index": failure.executed_index,
            "execution_count": failure.execution_count,
            "source": failure.source,
            "ename": failure.ename,
            "evalue": failure.evalue,
            "traceback": list(failure.traceback),
            "plain_traceback": failure.plain_traceback,
            "save_error": failure.save_error,
        }


def _saved(failure: Failure) -> str:
    if failure.output_path is None:
        return "the executed notebook was not saved (pass output_path to keep it)"
    if failure.save_error:
        return (
            f"the executed notebook could not be saved to {failure.output_path}: "
            f"{failure.save_error}"
        )
    return f"executed notebook: {failure.output_path}"


class CellTimeoutError(CellExecutionError):
    """A cell ran longer than the per-cell timeout; its kernel was interrupted and shut down.

    ``traceback`` is where the interrupt found the cell, when the kernel reported it;
    ``timeout_set_by`` names where a limit stricter than the caller's came from.
    """

    timeout: float | None
    timeout_set_by: str | None

    @staticmethod
    def _happened(failure: Failure) -> str:
        by = f" (set by {failure.timeout_set_by})" if failure.timeout_set_by else ""
        limit = f" after {failure.timeout:g} s" if failure.timeout is not None else ""
        return f"{failure.where} timed out{limit}{by}; the kernel was interrupted and shut down"

    @staticmethod
    def _facts(failure: Failure) -> dict[str, Any]:
        facts = CellExecutionError._facts(failure)
        return {**facts, "timeout": failure.timeout, "timeout_set_by": failure.timeout_set_by}


class KernelDiedError(CellExecutionError):
    """The kernel process died while running a cell (a crash, ``os._exit``, the OOM killer).

    ``exit_code`` is the process's return code (negative: killed by that signal) when known;
    ``kernel_output`` is what the kernel process last wrote outside the notebook.
    """

    exit_code: int | None
    kernel_output: str

    @staticmethod
    def _happened(failure: Failure) -> str:
        code = failure.exit_code
        how = f" ({KernelDiedError.describe_exit(code)})" if code is not None else ""
        last = last_line(failure.kernel_output)
        said = f"; its last output: {one_line(last, 300)}" if last else ""
        return f"the kernel died{how} while running {failure.where}{said}"

    @staticmethod
    def _facts(failure: Failure) -> dict[str, Any]:
        facts = CellExecutionError._facts(failure)
        return {**facts, "exit_code": failure.exit_code, "kernel_output": failure.kernel_output}

    @staticmethod
    def describe_exit(exit_code: int) -> str:
        """``exit status 3`` or ``killed by SIGSEGV``, from a process return code."""
        import signal

        if exit_code >= 0:
            return f"exit status {exit_code}"
        try:
            return f"killed by {signal.Signals(-exit_code).name}"
        except ValueError:
            return f"killed by signal {-exit_code}"


_KINDS: dict[str, type[CellExecutionError]] = {
    "timeout": CellTimeoutError,
    "died": KernelDiedError,
}


# -- warnings ----------------------------------------------------------------------------------


class UnknownParameterWarning(UserWarning):
    """Parameters that the notebook's ``parameters`` cell does not define (injected anyway).

    ``defined`` lists what the cell defines; it is None when no cell is tagged ``parameters``.
    """

    def __init__(
        self,
        message: str,
        path: str = "",
        unknown: tuple[str, ...] = (),
        defined: tuple[str, ...] | None = None,
    ) -> None:
        super().__init__(message)
        self.path = path
        self.unknown = unknown
        self.defined = defined

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (str(self), self.path, self.unknown, self.defined))


class NoKernelWarning(UserWarning):
    """``glue`` was called where no IPython shell can record outputs; nothing was stored."""
