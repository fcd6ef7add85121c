"""One error hierarchy for the whole package.

Every error derives from :class:`NbScrapError`, carries its facts as attributes, reads as one
paragraph through ``str()``, and pickles with those attributes intact, because errors raised in a
pytest-xdist worker are rebuilt in the controller.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

__all__ = [
    "CellExecutionError",
    "CellTimeoutError",
    "EncoderError",
    "ExecutionError",
    "KernelDiedError",
    "KernelNotFoundError",
    "NbScrapError",
    "NoEncoderError",
    "NotebookReadError",
    "ParameterError",
    "ScrapDecodeError",
    "ScrapError",
    "ScrapNotFoundError",
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


class ScrapError(NbScrapError):
    """A problem with one scrap; the rest of its notebook stays readable."""


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

    @classmethod
    def from_value(cls, value: object) -> NoEncoderError:
        return cls(
            f"Scrap of type {type(value)} has no supported encoder registered",
            type_name=repr(type(value)),
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
        reason = f"{type(exc).__name__}: {exc}"
        return cls(
            f"Scrap {name!r} cannot be decoded with encoder {encoder!r}: {reason}",
            name=name,
            encoder=encoder,
            reason=reason,
        )


class ExecutionError(NbScrapError):
    """A notebook could not be executed to the end."""

    path: str


class ParameterError(ExecutionError, UsageError):
    """Parameters that cannot be injected into a notebook."""


class KernelNotFoundError(ExecutionError):
    """The kernel a notebook asks for is not installed."""


class CellExecutionError(ExecutionError):
    """A cell raised; carries the executed-so-far notebook and the cell's facts."""


class CellTimeoutError(CellExecutionError):
    """A cell ran longer than the per-cell timeout and was interrupted."""


class KernelDiedError(CellExecutionError):
    """The kernel process died while running a cell."""
