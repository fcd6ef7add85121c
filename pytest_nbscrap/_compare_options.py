"""The options of output comparison (``--nbscrap-compare`` and its company), and how they are
read into :class:`._settings.Settings`' ``compare``, ``update`` and ``rules``.

Kept out of ``plugin.py`` so that the plugin registers them with one call; the names and
meanings follow nbval's (``--nbval``, ``--nbval-sanitize-with``, ``--nbdime`` for images).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from ._compare import DEFAULT_REL_TOL, CompareRules
from ._errors import UsageError
from ._sanitize import Sanitizer

__all__ = ["add_compare_options", "compare_settings"]


def add_compare_options(group: Any, parser: pytest.Parser, option: Callable[..., None]) -> None:
    """Registers the options; ``option`` is the plugin's (a flag and its ini twin)."""
    option(
        "--nbscrap-compare",
        "nbscrap_compare",
        "compare every code cell's fresh outputs, and every scrap, with the ones stored in the "
        "notebook (nbval's --nbval); without it, only cells marked NBVAL_CHECK_OUTPUT are",
        "bool",
        action="store_true",
        default=None,
    )
    option(
        "--nbscrap-sanitize-with",
        "nbscrap_sanitize_with",
        "nbval's sanitize file: 'regex: ...' / 'replace: ...' line pairs applied to outputs "
        "before they are compared; in the ini file, relative to the ini file's folder",
    )
    option(
        "--nbscrap-compare-images",
        "nbscrap_compare_images",
        "compare image/png and image/jpeg outputs too (skipped by default, as under nbval)",
        "bool",
        action="store_true",
        default=None,
    )
    # No ini twin: a source notebook is written only when this run is asked to.
    group.addoption(
        "--nbscrap-update",
        dest="nbscrap_update",
        action="store_true",
        default=False,
        help="write the fresh outputs back into the source notebooks whose outputs differ "
        "(implies --nbscrap-compare); the only time a source notebook is written",
    )
    parser.addini(
        "nbscrap_sanitize",
        help="sanitize pairs inline, in nbval's format: a 'regex: PATTERN' line, then a "
        "'replace: TEXT' line",
        type="linelist",
        default=[],
    )
    parser.addini(
        "nbscrap_rel_tol",
        help=f"relative tolerance for scrap numbers and frames (default {DEFAULT_REL_TOL:g})",
        type="string",
        default=None,
    )


def compare_settings(
    config: pytest.Config,
    value: Callable[[str], Any],
    given_path: Callable[[pytest.Config, str], Path | None],
) -> dict[str, Any]:
    """``Settings``' comparison fields, checked: a bad value is a usage error naming it."""
    update = bool(config.getoption("nbscrap_update"))
    sanitize = Sanitizer()
    try:
        path = given_path(config, "nbscrap_sanitize_with")
        if path is not None:
            sanitize = Sanitizer.from_file(path)
        inline = config.getini("nbscrap_sanitize") or []
        if inline:
            sanitize += Sanitizer.parse("\n".join(inline), "ini nbscrap_sanitize", strict=True)
    except UsageError as error:
        raise pytest.UsageError(str(error)) from None
    return {
        "compare": update or bool(value("nbscrap_compare")),
        "update": update,
        "rules": CompareRules(
            sanitize=sanitize,
            images=bool(value("nbscrap_compare_images")),
            rel_tol=_rel_tol(config.getini("nbscrap_rel_tol")),
        ),
    }


def _rel_tol(given: Any) -> float:
    if given in (None, ""):
        return DEFAULT_REL_TOL
    try:
        tolerance = float(given)
    except (TypeError, ValueError):
        tolerance = math.nan
    if not (math.isfinite(tolerance) and tolerance >= 0):
        raise pytest.UsageError(
            f"nbscrap_rel_tol must be a number of 0 or more, like 1e-6, not {given!r}"
        )
    return tolerance
