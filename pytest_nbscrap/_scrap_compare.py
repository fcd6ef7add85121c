"""Scraps compared by value: the stored notebook's against a fresh run's.

Numbers agree within a relative tolerance (NaN agrees with NaN), DataFrames and Series through
pandas' own testing functions with that tolerance, text and JSON exactly (NaN inside agreeing
with NaN, as :func:`._scraps.values_equal` has it), and display-only scraps by their text form.
pandas is imported only when a frame is compared.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ._errors import NbScrapError
from ._scraps import Scrap, Scraps, values_equal
from ._text import one_line, shorten

__all__ = ["ScrapDifference", "scrap_differences"]

# A value is shown on one line of at most this many characters.
_SHOWN = 200


@dataclass(frozen=True)
class ScrapDifference:
    """A scrap whose fresh value is not its stored one: its name, both values as text (or
    what was missing), and what differs when that says more (pandas' message for a frame)."""

    name: str
    expected: str
    got: str
    reason: str = ""


def scrap_differences(stored: Scraps, fresh: Scraps, rel_tol: float) -> tuple[ScrapDifference, ...]:
    """Every stored scrap the fresh run changed or did not glue, then every new one."""
    found = []
    for name, old in stored.items():
        new = fresh.get(name)
        if new is None:
            found.append(ScrapDifference(name, _shown(old), "(not glued)"))
            continue
        difference = _compare(old, new, rel_tol)
        if difference is not None:
            found.append(difference)
    for name, new in fresh.items():
        if name not in stored:
            found.append(ScrapDifference(name, "(not stored)", _shown(new)))
    return tuple(found)


def _compare(old: Scrap, new: Scrap, rel_tol: float) -> ScrapDifference | None:
    if old.encoder == "display" or new.encoder == "display":
        if old.encoder == new.encoder and _display_text(old) == _display_text(new):
            return None
        return ScrapDifference(old.name, _shown(old), _shown(new))
    try:
        left, right = old.data, new.data
    except NbScrapError as error:  # a stored scrap that no longer decodes is a difference
        return ScrapDifference(old.name, _shown(old), _shown(new), one_line(str(error)))
    reason = _values_differ(left, right, rel_tol)
    if reason is None:
        return None
    return ScrapDifference(old.name, _shown(old), _shown(new), reason)


def _values_differ(left: Any, right: Any, rel_tol: float) -> str | None:
    """None when the values agree; else a reason ('' when both values say it)."""
    if _is_frame(left) and _is_frame(right):
        return _frames_differ(left, right, rel_tol)
    if _is_number(left) and _is_number(right):
        if math.isnan(left) and math.isnan(right):
            return None
        return None if math.isclose(left, right, rel_tol=rel_tol) else ""
    if type(left) is not type(right) and not (_is_number(left) and _is_number(right)):
        return f"{type(left).__name__} became {type(right).__name__}"
    return None if values_equal(left, right) else ""


def _frames_differ(left: Any, right: Any, rel_tol: float) -> str | None:
    import pandas as pd
    import pandas.testing as pdt

    try:
        if isinstance(left, pd.DataFrame) and isinstance(right, pd.DataFrame):
            pdt.assert_frame_equal(left, right, rtol=rel_tol, atol=0.0)
        elif isinstance(left, pd.Series) and isinstance(right, pd.Series):
            pdt.assert_series_equal(left, right, rtol=rel_tol, atol=0.0)
        else:
            return f"{type(left).__name__} became {type(right).__name__}"
    except AssertionError as error:
        lines = [line.strip() for line in str(error).splitlines() if line.strip()]
        return shorten("; ".join(lines[:4]), 400)
    return None


def _is_frame(value: Any) -> bool:
    # By name, so that no value but a frame imports pandas ("pandas" is its module in 3.x).
    module = type(value).__module__
    pandas = module == "pandas" or module.startswith("pandas.")
    return pandas and type(value).__name__ in ("DataFrame", "Series")


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _display_text(scrap: Scrap) -> str:
    display = scrap.display if isinstance(scrap.display, Mapping) else {}
    data = display.get("data")
    data = data if isinstance(data, Mapping) else {}
    text = data.get("text/plain", "")
    return "".join(text) if isinstance(text, list) else str(text)


def _shown(scrap: Scrap) -> str:
    if scrap.encoder == "display":
        return f"display {shorten(one_line(_display_text(scrap)), _SHOWN)!r}"
    try:
        value = scrap.data
    except NbScrapError as error:
        return f"(undecodable: {shorten(one_line(str(error)), _SHOWN)})"
    if _is_frame(value):
        return f"{type(value).__name__} of shape {getattr(value, 'shape', '?')}"
    try:
        return shorten(one_line(repr(value)), _SHOWN)
    except Exception:  # a value whose repr raises still needs a line
        return f"<{type(value).__name__}>"
