"""Pure text functions used by the preprocessors and, as Jinja2 filters, by the templates.

Each takes text and returns text; none reads global state, so they are safe to call from any
template (including a user's) and easy to test one by one.
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Sequence

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

# Select Graphic Rendition: the only escape sequence a terminal uses purely for colour and weight.
_SGR = re.compile(r"\x1b\[[0-9;:]*m")

# Every other thing a terminal would act on. Rendered notebooks may come from anyone, and a
# cursor movement, a screen clear or an OSC title/hyperlink in an output must not reach the
# user's terminal as a command. Order matters: string sequences swallow their payload first.
_CONTROL = re.compile(
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
_RESET = "\x1b[0m"


def strip_ansi(text: str) -> str:
    """Removes every terminal escape sequence (colours included) and keeps the text."""
    return _CONTROL.sub(_drop_escapes, text)


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
        return match.group() if keep_color and _SGR.fullmatch(match.group()) else ""

    cleaned = _CONTROL.sub(replace, text)
    if keep_color and _SGR.search(cleaned) and not cleaned.rstrip("\n").endswith(_RESET):
        stripped = cleaned.rstrip("\n")
        cleaned = stripped + _RESET + cleaned[len(stripped) :]
    return cleaned


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
        marker = _RESET + marker  # a colour left open in the head must not paint the note
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
    return f"\x1b[{codes}m{text}{_RESET}" if codes else text
