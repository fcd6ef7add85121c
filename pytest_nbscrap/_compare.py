"""One code cell's fresh outputs against its stored ones, with nbval's rules.

Following nbval's ``plugin.py`` (``compare_outputs``, ``coalesce_streams``,
``transform_streams_for_comparison``): each stream's writes are joined into one text per stream
name (``\\r`` and ``\\b`` redraws resolved), every output is flattened into its keys (a stream's
name, each MIME type of its data, an error's ``ename`` and ``evalue``), and the two cells agree
when they have the same keys with the same values, in order, per key: outputs of different keys
may come in any order. Skipped, as nbval skips them: metadata, tracebacks, execution counts,
widget model ids (random), and images unless asked (``images=True``, nbval's ``--nbdime``).
Scrap data is skipped here too: scraps are compared by value (:mod:`._scrap_compare`).
Every string is sanitized (:mod:`._sanitize`) before it is compared.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ._sanitize import Sanitizer
from ._scraps import GLUE_PREFIX, RECORD_PREFIX

__all__ = ["DEFAULT_REL_TOL", "CellDifference", "CompareRules", "compare_cell", "normalised"]

#: The default relative tolerance for numbers, math.isclose's own.
DEFAULT_REL_TOL = 1e-9

# nbval's skip_compare: keys of an output, and of its data, never compared.
_SKIPPED = frozenset(
    {
        "metadata",
        "traceback",
        "prompt_number",
        "output_type",
        "name",
        "execution_count",
        "transient",
        "application/vnd.jupyter.widget-view+json",  # model ids are random
    }
)
_IMAGES = frozenset({"image/png", "image/jpeg"})
# nbval's patterns for a stream's redraws. nbval's '[^\n]\b' is not a raw string: its \b is
# the backspace character, which a regex would read as a word boundary.
_CARRIAGE_RETURN = re.compile(r"^.*\r(?=[^\n])", re.MULTILINE)
_BACKSPACE = re.compile("[^\n]\x08")


@dataclass(frozen=True)
class CompareRules:
    """How outputs are compared: the sanitizer, whether images count, and the relative
    tolerance for scraps' numbers."""

    sanitize: Sanitizer = field(default_factory=Sanitizer)
    images: bool = False
    rel_tol: float = DEFAULT_REL_TOL


@dataclass(frozen=True)
class CellDifference:
    """A code cell whose outputs differ: its number (as the user counts the source's cells),
    its source, why, and both outputs as text (key by key, sanitized)."""

    number: int
    source: str
    reason: str
    expected: str
    got: str


Normalised = dict[str, list[Any]]


def _text(value: Any) -> str:
    if isinstance(value, list):  # nbformat may store multi-line strings as lists of lines
        return "".join(str(part) for part in value)
    return value if isinstance(value, str) else ""


def _redrawn(text: str) -> str:
    """nbval's coalesce_streams: what a terminal would show of ``\\b`` and ``\\r`` redraws."""
    old = None
    while old != text:
        old, text = text, _BACKSPACE.sub("", text)
    return _CARRIAGE_RETURN.sub("", text)


def _skipped(key: str, rules: CompareRules) -> bool:
    return (
        key in _SKIPPED
        or (key in _IMAGES and not rules.images)
        or key.startswith((GLUE_PREFIX, RECORD_PREFIX))
    )


def _value(value: Any, sanitize: Sanitizer) -> Any:
    if isinstance(value, (str, list)) and all(isinstance(part, str) for part in value):
        return sanitize(_text(value))
    return value  # JSON data (application/json) is compared as it is, as nbval does


def normalised(outputs: Sequence[Any], rules: CompareRules) -> Normalised:
    """A cell's outputs as nbval compares them: key -> its values in order."""
    streams: dict[str, int] = {}
    flat: Normalised = {}
    stream_texts: list[list[str]] = []
    for output in outputs:
        if not isinstance(output, Mapping):
            continue
        if output.get("output_type") == "stream":
            name = str(output.get("name", "stdout"))
            if name not in streams:
                streams[name] = len(stream_texts)
                stream_texts.append([])
                flat.setdefault(name, []).append(None)  # its place; filled in below
            stream_texts[streams[name]].append(_text(output.get("text")))
            continue
        for key, value in output.items():
            if _skipped(key, rules):
                continue
            if key == "data" and isinstance(value, Mapping):
                for mime, payload in value.items():
                    if not _skipped(mime, rules):
                        flat.setdefault(mime, []).append(_value(payload, rules.sanitize))
            elif key != "data":
                flat.setdefault(key, []).append(_value(value, rules.sanitize))
    for name, index in streams.items():
        values = flat[name]
        values[values.index(None)] = rules.sanitize(_redrawn("".join(stream_texts[index])))
    return flat


def compare_cell(
    number: int, source: str, stored: Sequence[Any], fresh: Sequence[Any], rules: CompareRules
) -> CellDifference | None:
    """None when the fresh outputs agree with the stored ones; else what differs."""
    expected, got = normalised(stored, rules), normalised(fresh, rules)
    if expected == got:
        return None
    missing, unexpected = expected.keys() - got.keys(), got.keys() - expected.keys()
    if missing:
        reason = f"missing output: {', '.join(sorted(missing))}"
    elif unexpected:
        reason = f"unexpected output: {', '.join(sorted(unexpected))}"
    else:
        keys = [key for key in expected if expected[key] != got[key]]
        reason = f"different {', '.join(keys)}"
    return CellDifference(number, source, reason, _shown(expected), _shown(got))


def _shown(outputs: Normalised) -> str:
    """Outputs as text for the diff: each key, then its values indented."""
    lines = []
    for key, values in outputs.items():
        for value in values:
            text = value if isinstance(value, str) else json.dumps(value, indent=1, sort_keys=True)
            lines.append(f"[{key}]")
            lines.extend(f"  {line}" for line in text.rstrip("\n").split("\n"))
    return "\n".join(lines)
