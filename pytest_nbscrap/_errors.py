"""One error hierarchy for the whole package.

Every error derives from :class:`NbScrapError`, carries its facts as attributes, reads as one
paragraph through ``str()``, and pickles with those attributes intact, because errors raised in a
pytest-xdist worker are rebuilt in the controller.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
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


class EncoderError(ScrapError):
    """An encoder cannot be registered, found or applied."""


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
        return cls(
            f"Scrap {name!r} uses encoder {encoder!r}, which is not registered "
            f"(registered: {_names(names)}); register one to read its data",
            name=name,
            encoder=encoder,
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
        reason = " ".join(f"{type(exc).__name__}: {exc}".split())
        return cls(
            f"Scrap {name!r} cannot be decoded with encoder {encoder!r}: {reason}",
            name=name,
            encoder=encoder,
            reason=reason,
        )


class ExecutionError(NbScrapError):
    """A notebook could not be executed to the end."""

    path: str

    @classmethod
    def from_kernel_start(
        cls, path: str, kernel_name: str, reason: str, kernel_output: str = ""
    ) -> ExecutionError:
        """The kernel process could not be started, or never answered."""
        last = cls._last_line(kernel_output)
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

    @staticmethod
    def _last_line(text: str) -> str:
        lines = [line.strip() for line in text.splitlines() if line.strip()]
        return lines[-1] if lines else ""


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
        if len(shown) > 80:
            shown = shown[:77] + "..."
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
    """A cell raised; carries the executed-so-far notebook and the cell's facts.

    ``cell_index`` is 0-based in the *source* notebook (injected cells not counted) and
    ``cell_number`` is the same cell 1-based, as shown to users; both are None when the failing
    cell is the injected-parameters cell. ``executed_index`` indexes ``notebook.cells``.
    """

    output_path: str | None
    notebook: Notebook
    cell_index: int | None
    cell_number: int | None
    executed_index: int
    execution_count: int | None
    source: str
    ename: str
    evalue: str
    traceback: list[str]
    plain_traceback: str

    @staticmethod
    def cell_facts(
        *,
        path: str,
        output_path: str | None,
        notebook: Notebook,
        cell_index: int | None,
        executed_index: int,
        execution_count: int | None,
        source: str,
        ename: str,
        evalue: str,
        traceback: Iterable[str],
        save_error: str | None = None,
    ) -> dict[str, Any]:
        """The details every cell failure carries; pass them to a ``from_*`` method.
        ``save_error``: why the executed notebook could not be written, if it could not."""
        import re

        lines = list(traceback)
        return {
            "path": path,
            "output_path": output_path,
            "notebook": notebook,
            "cell_index": cell_index,
            "cell_number": None if cell_index is None else cell_index + 1,
            "executed_index": executed_index,
            "execution_count": execution_count,
            "source": source,
            "ename": ename,
            "evalue": evalue,
            "traceback": lines,
            "plain_traceback": re.sub(r"\x1b\[[0-?]*[ -/]*[@-~]", "", "\n".join(lines)),
            "save_error": save_error,
        }

    @classmethod
    def from_facts(cls, facts: dict[str, Any]) -> CellExecutionError:
        evalue = cls._one_line(facts["evalue"])
        raised = f"raised {facts['ename']}: {evalue}" if evalue else f"raised {facts['ename']}"
        return cls(
            f"{facts['path']}: {cls._cell_label(facts)} {raised}; {cls._saved(facts)}", **facts
        )

    @classmethod
    def from_lost_output(cls, facts: dict[str, Any], waited: float) -> CellExecutionError:
        """The kernel finished the cell, but the rest of its output never arrived: the run
        fails rather than pass on part of it (a stale scrap, a cut-off stream)."""
        return cls(
            f"{facts['path']}: the output of {cls._cell_label(facts)} was lost: the kernel "
            f"finished the cell, but the rest of its output did not arrive within {waited:g} s; "
            f"{cls._saved(facts)}",
            **facts,
        )

    @staticmethod
    def _cell_label(facts: dict[str, Any]) -> str:
        number, count = facts["cell_number"], facts["execution_count"]
        cell = "the injected-parameters cell" if number is None else f"cell {number}"
        return cell if count is None else f"{cell} (In [{count}])"

    @staticmethod
    def _saved(facts: dict[str, Any]) -> str:
        if facts["output_path"] is None:
            return "the executed notebook was not saved (pass output_path to keep it)"
        if facts.get("save_error"):
            return (
                f"the executed notebook could not be saved to {facts['output_path']}: "
                f"{facts['save_error']}"
            )
        return f"executed notebook: {facts['output_path']}"

    @staticmethod
    def _one_line(text: str, limit: int = 300) -> str:
        # str() stays one paragraph; the full value is in ``evalue``.
        flat = " ".join(text.split())
        return flat if len(flat) <= limit else flat[: limit - 3] + "..."


class CellTimeoutError(CellExecutionError):
    """A cell ran longer than the per-cell timeout; its kernel was interrupted and shut down.

    ``traceback`` is where the interrupt found the cell, when the kernel reported it.
    """

    timeout: float
    timeout_set_by: str | None

    @classmethod
    def from_timeout(
        cls, facts: dict[str, Any], timeout: float, set_by: str | None = None
    ) -> CellTimeoutError:
        """``set_by`` names where a limit stricter than the caller's came from."""
        by = f" (set by {set_by})" if set_by else ""
        return cls(
            f"{facts['path']}: {cls._cell_label(facts)} timed out after {timeout:g} s{by}; "
            f"the kernel was interrupted and shut down; {cls._saved(facts)}",
            **facts,
            timeout=timeout,
            timeout_set_by=set_by,
        )


class KernelDiedError(CellExecutionError):
    """The kernel process died while running a cell (a crash, ``os._exit``, the OOM killer).

    ``exit_code`` is the process's return code (negative: killed by that signal) when known;
    ``kernel_output`` is what the kernel process last wrote outside the notebook.
    """

    exit_code: int | None
    kernel_output: str

    @classmethod
    def from_death(
        cls, facts: dict[str, Any], exit_code: int | None, kernel_output: str
    ) -> KernelDiedError:
        how = f" ({cls.describe_exit(exit_code)})" if exit_code is not None else ""
        last = cls._last_line(kernel_output)
        said = f"; its last output: {cls._one_line(last)}" if last else ""
        return cls(
            f"{facts['path']}: the kernel died{how} while running {cls._cell_label(facts)}"
            f"{said}; {cls._saved(facts)}",
            **facts,
            exit_code=exit_code,
            kernel_output=kernel_output,
        )

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
