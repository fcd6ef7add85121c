"""What other notebook runners read in a notebook, honoured here the way they honour it.

One home for each convention, so that a notebook that passes under nbclient, papermill, nbmake
or nbval runs here unchanged: the cell tags and comment markers that decide whether a cell runs
and whether it may raise, and the notebook metadata nbmake reads (``metadata.execution``).
Nothing here imports nbformat or nbclient; cells are read as the mappings they are.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from ._errors import NotebookReadError
from ._text import shorten

__all__ = [
    "CHECK_OUTPUT_SPELLINGS",
    "INJECTED_PARAMETERS_TAG",
    "PAPERMILL_ERROR_TAG",
    "PARAMETERS_TAG",
    "SKIP_EXECUTION_TAG",
    "CellRule",
    "ExecutionSettings",
    "cell_rule",
    "errors_allowed",
    "is_clean_exit",
    "output_checked",
    "rule_for",
    "first_tagged",
]

# papermill: the cell whose variables are the notebook's parameters, and the cell it adds
# after it with the values given.
PARAMETERS_TAG = "parameters"
INJECTED_PARAMETERS_TAG = "injected-parameters"
# papermill marks the failing cell of a notebook it ran with this; a rerun drops those cells.
PAPERMILL_ERROR_TAG = "papermill-error-cell-tag"
# nbclient does not run a cell with this tag (its ``skip_cells_with_tag``); papermill clears
# the cell's outputs like every other's.
SKIP_EXECUTION_TAG = "skip-execution"

# A cell with one of these may raise, and the run goes on (nbclient and papermill; nbval).
_MAY_RAISE_TAGS = frozenset({"raises-exception", "nbval-raises-exception"})
# nbval does not run a cell with this tag; its stored outputs stay as they are.
_SKIP_TAGS = frozenset({"nbval-skip"})
# nbval's comment markers: any line of the cell that is only ``# MARKER`` (nbval's
# ``find_comment_markers`` strips the line, then the leading '#'s, then spaces).
_MAY_RAISE_MARKERS = frozenset({"NBVAL_RAISES_EXCEPTION"})
_SKIP_MARKERS = frozenset({"NBVAL_SKIP"})
# nbval's output markers (its ``comment_markers`` and ``metadata_tags``): the cell's outputs are
# compared with the stored ones even under --nbval-lax, or never. PYTEST_VALIDATE_IGNORE_OUTPUT
# is nbval's older spelling, kept by nbval for backwards compatibility.
_CHECK_OUTPUT_MARKERS = frozenset({"NBVAL_CHECK_OUTPUT"})
_IGNORE_OUTPUT_MARKERS = frozenset({"NBVAL_IGNORE_OUTPUT", "PYTEST_VALIDATE_IGNORE_OUTPUT"})
_CHECK_OUTPUT_TAGS = frozenset({"nbval-check-output"})
_IGNORE_OUTPUT_TAGS = frozenset({"nbval-ignore-output", "pytest-validate-ignore-output"})
#: Text found in a notebook's file wherever a cell is marked check-output (a quick test).
CHECK_OUTPUT_SPELLINGS = ("NBVAL_CHECK_OUTPUT", "nbval-check-output")


@dataclass(frozen=True)
class CellRule:
    """How one cell is run: ``skip``: not at all (outputs kept); ``may_raise``: its error
    is expected, so it does not fail the run and later cells run."""

    skip: bool = False
    may_raise: bool = False


def _markers(source: str) -> set[str]:
    stripped = (line.strip() for line in source.splitlines())
    return {line.lstrip("#").strip() for line in stripped if line.startswith("#")}


def _tags(cell: Mapping[str, Any]) -> set[str]:
    metadata = cell.get("metadata")
    tags = metadata.get("tags") if isinstance(metadata, Mapping) else None
    if not isinstance(tags, list):
        return set()  # nbval ignores tags that are not a list; so do we
    return {tag for tag in tags if isinstance(tag, str)}


def cell_rule(cell: Mapping[str, Any], *, allow_errors: bool = False) -> CellRule:
    """The rule for a code cell, from its tags and nbval's comment markers; ``allow_errors``
    is the notebook's (:attr:`ExecutionSettings.allow_errors`): every cell may raise."""
    source = cell.get("source", "")
    if isinstance(source, list):  # nbformat's JSON may split the source into lines
        source = "".join(str(line) for line in source)
    return rule_for(_tags(cell), str(source), allow_errors=allow_errors)


def rule_for(tags: Iterable[str], source: str, *, allow_errors: bool = False) -> CellRule:
    """:func:`cell_rule` for a cell already read into its tags and source."""
    tagged, markers = set(tags), _markers(source)
    return CellRule(
        skip=bool(tagged & _SKIP_TAGS or markers & _SKIP_MARKERS),
        may_raise=allow_errors or bool(tagged & _MAY_RAISE_TAGS or markers & _MAY_RAISE_MARKERS),
    )


def output_checked(cell: Mapping[str, Any], *, by_default: bool) -> bool:
    """Whether a code cell's fresh outputs are compared with its stored ones: nbval's rule.

    A marker says so (check-output) or not (ignore-output); comment markers win over tags, as
    nbval's collect() lets them; otherwise ``by_default`` (``--nbscrap-compare``, nbval's
    ``--nbval``; without it, nbval's ``--nbval-lax``).
    """
    source = cell.get("source", "")
    if isinstance(source, list):
        source = "".join(str(line) for line in source)
    for found, check, ignore in (
        (_markers(str(source)), _CHECK_OUTPUT_MARKERS, _IGNORE_OUTPUT_MARKERS),
        (_tags(cell), _CHECK_OUTPUT_TAGS, _IGNORE_OUTPUT_TAGS),
    ):
        if found & ignore:
            return False
        if found & check:
            return True
    return by_default


def errors_allowed(metadata: object) -> bool:
    """nbclient's notebook-wide ``metadata.execution.allow_errors``, read as a notebook being
    rendered is read: leniently (a malformed value allows nothing; a run rejects it)."""
    execution = metadata.get("execution") if isinstance(metadata, Mapping) else None
    return isinstance(execution, Mapping) and execution.get("allow_errors") is True


def is_clean_exit(ename: object, evalue: object) -> bool:
    """papermill's rule: ``sys.exit()``, ``sys.exit(0)`` or ``sys.exit(None)`` ends a notebook
    early and successfully; its SystemExit is no failure."""
    return ename == "SystemExit" and evalue in ("", "0", "None")


@dataclass(frozen=True)
class ExecutionSettings:
    """What a run takes from a notebook's metadata, checked: the per-cell ``timeout`` (the
    stricter of nbmake's ``metadata.execution.timeout`` and our ``metadata.nbscrap.timeout``;
    None: no limit of its own), named by ``timeout_key``, and nbmake's ``allow_errors`` (every
    cell may raise, as nbclient's option)."""

    timeout: float | None = None
    allow_errors: bool = False
    timeout_key: str | None = None

    @classmethod
    def from_metadata(
        cls, path: str, metadata: Mapping[str, Any], cells: Iterable[Any] = ()
    ) -> ExecutionSettings:
        """Reads and checks the metadata a run uses (and the tags of ``cells``); a malformed
        value is a NotebookReadError naming it, raised before anything else reads it."""
        _check_shapes(path, metadata, cells)
        execution = metadata.get("execution")
        if execution is not None and not isinstance(execution, Mapping):
            raise NotebookReadError.from_reason(
                path, f"metadata.execution must be an object, not {_shown(execution)}"
            )
        execution = execution or {}
        nbscrap = metadata.get("nbscrap") or {}
        limits = [
            (limit, key)
            for key, value in (
                ("metadata.execution.timeout", execution.get("timeout")),
                ("metadata.nbscrap.timeout", nbscrap.get("timeout")),
            )
            if (limit := _timeout(path, key, value)) is not None
        ]
        timeout, key = min(limits, default=(None, None))
        return cls(timeout, _flag(path, execution), key)

    def limit(self, given: float | None) -> float | None:
        """The per-cell limit with ``given`` (None or <= 0: none): the stricter one wins."""
        limits = [value for value in (given, self.timeout) if value is not None and value > 0]
        return min(limits, default=None)


# Metadata fields a run reads, and the JSON type each must have when present.
_OBJECTS = ("kernelspec", "language_info", "papermill", "nbscrap")
_STRINGS = (("kernelspec", "name"), ("kernelspec", "language"), ("language_info", "name"))


def _check_shapes(path: str, metadata: Mapping[str, Any], cells: Iterable[Any]) -> None:
    for key in _OBJECTS:
        value = metadata.get(key)
        if value is not None and not isinstance(value, Mapping):
            raise NotebookReadError.from_reason(
                path, f"metadata.{key} must be an object, not {_shown(value)}"
            )
    for outer, inner in (*_STRINGS, ("nbscrap", "kernel")):
        value = (metadata.get(outer) or {}).get(inner)
        if value is not None and not isinstance(value, str):
            raise NotebookReadError.from_reason(
                path, f"metadata.{outer}.{inner} must be a string, not {_shown(value)}"
            )
    for number, cell in enumerate(cells, start=1):
        cell_metadata = cell.get("metadata") if isinstance(cell, Mapping) else None
        tags = cell_metadata.get("tags") if isinstance(cell_metadata, Mapping) else None
        if tags is not None and not (
            isinstance(tags, list) and all(isinstance(tag, str) for tag in tags)
        ):
            raise NotebookReadError.from_reason(
                path, f"cell {number}: metadata.tags must be a list of strings, not {_shown(tags)}"
            )


def _shown(value: object) -> str:
    try:
        shown = repr(value)
    except ValueError:  # an int too long for str()
        shown = "a huge number"
    return f"{shorten(shown, 60)} ({type(value).__name__})"


def _timeout(path: str, key: str, value: object) -> float | None:
    if value is None:
        return None
    # bool is an int in Python, never a number of seconds in a notebook.
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or (isinstance(value, float) and not math.isfinite(value))
    ):
        raise NotebookReadError.from_reason(
            path, f"{key} must be a number of seconds, not {_shown(value)}"
        )
    # nbclient's rule: zero or less is no limit (of the notebook's own: a caller's still holds).
    return float(value) if value > 0 else None


def _flag(path: str, execution: Mapping[str, Any]) -> bool:
    value = execution.get("allow_errors", False)
    if not isinstance(value, bool):
        raise NotebookReadError.from_reason(
            path, f"metadata.execution.allow_errors must be true or false, not {_shown(value)}"
        )
    return value


def first_tagged(cells: Iterable[Mapping[str, Any]], tag: str) -> int:
    """The index of the first cell tagged ``tag``, or -1."""
    return next((index for index, cell in enumerate(cells) if tag in _tags(cell)), -1)
