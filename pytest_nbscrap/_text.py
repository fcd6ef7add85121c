"""Text helpers, one home for each: terminal controls removed, text cut to a width or a line count.

Everything a notebook holds is shown somewhere (a failure view, an error's one paragraph, a test
id, a table cell) and comes from whoever wrote the notebook: it is made harmless and short here,
the same way everywhere. Only ``re`` is imported; :mod:`pytest_nbscrap.export.filters` re-exports
the template filters among these.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Sequence
from typing import Any

__all__ = [
    "print_table",
    "use_color",
    "CONTROL",
    "RESET",
    "SGR",
    "clip_lines",
    "escape_controls",
    "last_line",
    "one_line",
    "sanitize",
    "shorten",
    "strip_ansi",
    "truncate",
]

# Select Graphic Rendition: the only escape sequence a terminal uses purely for colour and weight.
SGR = re.compile(r"\x1b\[[0-9;:]*m")

# Every other thing a terminal would act on. Rendered notebooks may come from anyone, and a
# cursor movement, a screen clear or an OSC title/hyperlink in an output must not reach the
# user's terminal as a command. Order matters: string sequences swallow their payload first.
CONTROL = re.compile(
    r"""
      (?:\x1b[P\]X^_]|[\x90\x98\x9d\x9e\x9f])   # OSC (titles, hyperlinks), DCS, SOS, PM, APC
      [^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)?      #   ... their payload and terminator
    | (?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]            # CSI: colour, cursor movement, erase, modes
    | \x1b[ -/]*[0-~]                            # other escapes: charsets, keypad, full reset
    | \x1b                                       # a lone escape
    | [\x00-\x08\x0b-\x1f\x7f-\x9f]              # other C0 controls but tab and newline; DEL; C1
    """,
    re.VERBOSE,
)

RESET = "\x1b[0m"


def strip_ansi(text: str) -> str:
    """Removes every terminal escape sequence (colours included) and keeps the text."""
    return CONTROL.sub(_drop_escapes, text)


def _drop_escapes(match: re.Match[str]) -> str:
    return "" if len(match.group()) > 1 or match.group() == "\x1b" else match.group()


def sanitize(text: str, *, keep_color: bool = False) -> str:
    """Neutralises terminal control: only SGR colour survives, and only with ``keep_color``.

    Newlines and tabs stay; ``\\r\\n`` becomes ``\\n``; every other control character or escape
    sequence is removed. With colour kept, a text that leaves a colour switched on is reset at
    its end, so the next line printed by someone else is not painted.
    """
    text = text.replace("\r\n", "\n")

    def replace(match: re.Match[str]) -> str:
        return match.group() if keep_color and SGR.fullmatch(match.group()) else ""

    cleaned = CONTROL.sub(replace, text)
    if keep_color and SGR.search(cleaned) and not cleaned.rstrip("\n").endswith(RESET):
        stripped = cleaned.rstrip("\n")
        cleaned = stripped + RESET + cleaned[len(stripped) :]
    return cleaned


# Every control character, tab and newline too: in a name (a test id) they are shown escaped.
_ANY_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def escape_controls(text: str) -> str:
    """Each control character written as its escape (``\\x1b``, ``\\n``): seen, not obeyed."""
    return _ANY_CONTROL.sub(lambda match: match.group().encode("unicode_escape").decode(), text)


def shorten(text: str, width: int) -> str:
    """``text`` if it fits in ``width`` characters, else its head and ``"..."`` in ``width``."""
    return text if len(text) <= width else text[: width - 3] + "..."


def one_line(text: str, width: int | None = None) -> str:
    """Every run of whitespace (newlines too) as one space; :func:`shorten` to ``width``."""
    flat = " ".join(text.split())
    return flat if width is None else shorten(flat, width)


def last_line(text: str) -> str:
    """The last line that is not blank, stripped (``""`` if none)."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1] if lines else ""


def truncate(text: str, max_lines: int | None, *, note: str = "... {count} lines cut ...") -> str:
    """Keeps at most ``max_lines`` lines: the head and the tail, with a note of what was cut.

    Both ends matter in notebook output: a traceback starts at the cell's line and ends with the
    error; a log starts with what ran and ends with what happened last.
    """
    if max_lines is None or max_lines <= 0:
        return text
    count = text.count("\n") + 1
    if count <= max_lines:
        return text
    keep = max(max_lines - 1, 1)  # the note takes one of the lines
    head = (keep + 1) // 2
    tail = keep - head
    marker = note.format(count=count - head - tail)
    if "\x1b[" in text:
        marker = RESET + marker  # a colour left open in the head must not paint the note
    # The kept ends are found, not split out: the text may be a million lines.
    end = -1
    for _ in range(head):
        end = text.find("\n", end + 1)
    start = len(text)
    for _ in range(tail):
        start = text.rfind("\n", 0, start)
    return "\n".join([text[:end], marker, *([text[start + 1 :]] if tail else [])])


def clip_lines(
    text: str, max_chars: int | None, *, note: str = " ... {count} characters cut ... "
) -> str:
    """Shortens every line longer than ``max_chars`` to its head and tail, with a note.

    One line can be megabytes (a printed list, an exception carrying a whole file); a terminal
    shows it as pages of wrapped text, and a line-count limit lets it through.
    """
    if max_chars is None or max_chars <= 0 or len(text) <= max_chars:
        return text
    return "\n".join(_clip(line, max_chars, note) for line in text.split("\n"))


def _clip(line: str, max_chars: int, note: str) -> str:
    if len(line) <= max_chars:
        return line
    head = (max_chars + 1) // 2
    tail = max_chars - head
    cut = len(line) - head - tail
    return f"{line[:head]}{note.format(count=cut)}{line[len(line) - tail :] if tail else ''}"


def use_color(choice: str, stream: Any = None) -> bool:
    """``always``/``never`` as said; ``auto``: ``stream`` (stdout) is a terminal, no NO_COLOR."""
    if choice != "auto":
        return choice == "always"
    stream = sys.stdout if stream is None else stream
    is_tty = getattr(stream, "isatty", None)
    return bool(is_tty and is_tty()) and not os.environ.get("NO_COLOR")


def print_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    """Columns padded to their widest cell, on stdout (the command line's listings)."""
    widths = [max(len(cell) for cell in column) for column in zip(header, *rows, strict=False)]
    for row in (header, *rows):
        cells = (cell.ljust(width) for cell, width in zip(row, widths, strict=True))
        sys.stdout.write("  ".join(cells).rstrip() + "\n")
