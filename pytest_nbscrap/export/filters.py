"""Pure text functions used by the preprocessors and, as Jinja2 filters, by the templates.

The low-level ones (``strip_ansi``, ``sanitize``, ``truncate``, ``clip_lines``) are
:mod:`pytest_nbscrap._text`'s, re-exported here; the ones only rendering needs are defined here.

Each takes text and returns text; none reads global state, so they are safe to call from any
template (including a user's) and easy to test one by one.
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence

# The text helpers every module uses live in one place; the templates get them from here.
from .._text import RESET, clip_lines, sanitize, strip_ansi, truncate

__all__ = [
    "STYLES",
    "clip_lines",
    "colorize",
    "indent",
    "number_lines",
    "resolve_overwrites",
    "sanitize",
    "strip_ansi",
    "truncate",
    "wrap",
]

STYLES: dict[str, int] = {
    "bold": 1,
    "dim": 2,
    "underline": 4,
    "red": 31,
    "green": 32,
    "yellow": 33,
    "blue": 34,
    "magenta": 35,
    "cyan": 36,
}


def resolve_overwrites(text: str) -> str:
    """Applies what ``\\r`` and backspace do on a terminal, as Jupyter does when it shows output.

    A progress bar that redraws itself with ``\\r`` is stored as every frame; a reader wants the
    last one only.
    """
    if "\r" not in text and "\b" not in text:
        return text
    return "\n".join(_overwrite(line) for line in text.replace("\r\n", "\n").split("\n"))


def _overwrite(line: str) -> str:
    if "\r" in line:
        # Jupyter keeps the last frame written; a trailing \r alone overwrites nothing.
        line = next((part for part in reversed(line.split("\r")) if part), "")
    if "\b" not in line:
        return line
    kept: list[str] = []
    for char in line:
        if char != "\b":
            kept.append(char)
        elif kept:
            kept.pop()
    return "".join(kept)


def indent(text: str, width: int = 2) -> str:
    """Indents every non-blank line by ``width`` spaces (blank lines get no trailing spaces)."""
    pad = " " * width
    return "\n".join(pad + line if line.strip() else "" for line in text.split("\n"))


def number_lines(
    text: str,
    start: int = 1,
    *,
    mark: int | None = None,
    mark_style: str | None = None,
    ranges: Sequence[tuple[int, int]] | None = None,
) -> str:
    """Prefixes lines with right-aligned numbers, ``"  1 | code"``.

    Line ``mark`` (a number as printed) gets ``">"`` in its gutter so it is found without colour;
    ``mark_style`` (e.g. ``"bold red"``) also paints it. ``ranges`` (inclusive ``(first,
    last)`` numbers) shows only those lines, with a note for each gap, numbers kept true.
    """
    if not text:
        return ""
    lines = text.split("\n")
    last = start + len(lines) - 1
    width = len(str(last))
    shown = [(max(first, start), min(end, last)) for first, end in ranges or [(start, last)]]
    numbered = []
    previous = start - 1
    for first, end in shown:
        if first > previous + 1:
            numbered.append(_gap(first - previous - 1, width))
        for number in range(first, end + 1):
            numbered.append(_numbered(lines[number - start], number, width, mark, mark_style))
        previous = end
    if previous < last:
        numbered.append(_gap(last - previous, width))
    return "\n".join(numbered)


def _numbered(line: str, number: int, width: int, mark: int | None, style: str | None) -> str:
    gutter = ">" if number == mark else " "
    row = f"{gutter} {number:>{width}} | {line}".rstrip()
    return colorize(row, style) if number == mark and style else row


def _gap(count: int, width: int) -> str:
    return f"{'':>{width + 2}} ... {count} line{'' if count == 1 else 's'} not shown ..."


def wrap(text: str, width: int = 100, *, markdown: bool = False) -> str:
    """Wraps lines longer than ``width`` at spaces, keeping each line's own indentation.

    Lines that fit are left as they are. With ``markdown``, fenced and indented code and table
    rows are never wrapped: their line breaks carry meaning.
    """
    wrapped: list[str] = []
    fenced = False
    for line in text.split("\n"):
        stripped = line.lstrip()
        if markdown and stripped.startswith(("```", "~~~")):
            fenced = not fenced
        preformatted = markdown and (
            fenced or stripped.startswith("|") or line.startswith(("    ", "\t"))
        )
        if len(line) <= width or preformatted:
            wrapped.append(line)
            continue
        lead = line[: len(line) - len(stripped)]
        pieces = textwrap.wrap(
            line,
            width=width,
            subsequent_indent=lead,
            break_long_words=False,
            break_on_hyphens=False,
        )
        wrapped.extend(pieces or [line])
    return "\n".join(wrapped)


def colorize(text: str, style: str, enabled: bool = True) -> str:
    """Paints ``text`` with a space-separated ``style`` such as ``"bold red"`` when enabled."""
    if not enabled or not text:
        return text
    codes = ";".join(str(STYLES[name]) for name in style.split())
    return f"\x1b[{codes}m{text}{RESET}" if codes else text
