"""The exporter's text filters: pure functions, one behaviour per test."""

from __future__ import annotations

import re

import pytest

from pytest_nbscrap.export.filters import (
    colorize,
    indent,
    number_lines,
    resolve_overwrites,
    sanitize,
    strip_ansi,
    truncate,
    wrap,
)

RED = "\x1b[31mred\x1b[0m"


def test_strip_ansi_removes_colours_and_keeps_the_text():
    assert strip_ansi(f"a {RED} b \x1b[38;5;28;01mdef\x1b[39;00m") == "a red b def"


def test_strip_ansi_keeps_newlines_and_tabs():
    assert strip_ansi("a\tb\nc") == "a\tb\nc"


@pytest.mark.parametrize(
    ("hostile", "name"),
    [
        ("\x1b]0;title\x07", "OSC window title ended by BEL"),
        ("\x1b]8;;https://evil.example\x1b\\", "OSC 8 hyperlink ended by ST"),
        ("\x1b[2J", "clear screen"),
        ("\x1b[1A", "cursor up"),
        ("\x1b[10;20H", "cursor position"),
        ("\x1bc", "full reset"),
        ("\x1b(0", "charset switch"),
        ("\x07", "bell"),
        ("\x9b2J", "8-bit CSI"),
        ("\x9d0;title\x9c", "8-bit OSC"),
        ("\x1bPq#0;2;0;0;0\x1b\\", "DCS sixel"),
        ("\x00\x7f", "NUL and DEL"),
    ],
)
@pytest.mark.parametrize("keep_color", [True, False])
def test_sanitize_removes_terminal_control(hostile, name, keep_color):
    cleaned = sanitize(f"before{hostile}after", keep_color=keep_color)
    assert cleaned == "beforeafter", name


def test_sanitize_keeps_colour_when_asked():
    assert sanitize(RED, keep_color=True) == RED


def test_sanitize_strips_colour_by_default():
    assert sanitize(RED) == "red"


def test_sanitize_resets_a_colour_left_on():
    assert sanitize("\x1b[31mred\n", keep_color=True) == "\x1b[31mred\x1b[0m\n"


def test_sanitize_keeps_newlines_and_tabs_and_normalises_crlf():
    assert sanitize("a\tb\r\nc\n") == "a\tb\nc\n"


def test_sanitize_leaves_only_sgr_sequences_when_colour_is_kept():
    text = "\x1b[1;31mx\x1b[0m\x1b[2K\x1b]2;t\x07\x1b[38;2;1;2;3my\x1b[?25l"
    kept = sanitize(text, keep_color=True)
    assert re.sub(r"\x1b\[[0-9;:]*m", "", kept) == "xy"


def test_resolve_overwrites_keeps_the_last_frame_of_a_progress_bar():
    assert resolve_overwrites("\rprogress 0%\rprogress 50%\rprogress 100%\nnext") == (
        "progress 100%\nnext"
    )


def test_resolve_overwrites_applies_backspaces():
    assert resolve_overwrites("abc\b\bX") == "aX"


def test_resolve_overwrites_treats_crlf_as_a_newline():
    assert resolve_overwrites("a\r\nb") == "a\nb"


def test_indent_leaves_blank_lines_empty():
    assert indent("a\n\n b", 2) == "  a\n\n   b"


def test_number_lines_aligns_numbers_to_the_widest():
    text = "\n".join(f"line {i}" for i in range(1, 11))
    numbered = number_lines(text).split("\n")
    assert numbered[0] == "   1 | line 1"
    assert numbered[9] == "  10 | line 10"


def test_number_lines_marks_a_line_in_the_gutter():
    assert number_lines("a\nb", mark=2) == "  1 | a\n> 2 | b"


def test_number_lines_paints_the_marked_line_only_with_a_style():
    numbered = number_lines("a\nb", mark=2, mark_style="bold red")
    assert numbered == "  1 | a\n\x1b[1;31m> 2 | b\x1b[0m"


def test_number_lines_shows_only_the_ranges_asked_with_true_numbers():
    text = "\n".join(f"line {i}" for i in range(1, 13))
    assert number_lines(text, ranges=[(1, 2), (11, 12)]).split("\n") == [
        "   1 | line 1",
        "   2 | line 2",
        "     ... 8 lines not shown ...",
        "  11 | line 11",
        "  12 | line 12",
    ]


def test_number_lines_notes_lines_cut_at_both_ends():
    text = "\n".join(f"line {i}" for i in range(1, 6))
    assert number_lines(text, ranges=[(3, 3)], mark=3).split("\n") == [
        "    ... 2 lines not shown ...",
        "> 3 | line 3",
        "    ... 2 lines not shown ...",
    ]


def test_number_lines_of_nothing_is_nothing():
    assert number_lines("") == ""


def test_truncate_keeps_head_and_tail_with_a_count():
    text = "\n".join(str(i) for i in range(100))
    assert truncate(text, 5).split("\n") == ["0", "1", "... 96 lines cut ...", "98", "99"]


def test_truncate_leaves_short_text_alone():
    assert truncate("a\nb", 2) == "a\nb"


@pytest.mark.parametrize("limit", [None, 0])
def test_truncate_without_a_limit_keeps_everything(limit):
    text = "\n".join(["x"] * 50)
    assert truncate(text, limit) == text


def test_truncate_resets_colour_before_its_note():
    text = "\n".join(["\x1b[31mred"] * 10)
    assert "\x1b[0m... " in truncate(text, 3)


def test_wrap_breaks_long_lines_at_spaces_keeping_indentation():
    assert wrap("  aaa bbb ccc", width=9) == "  aaa bbb\n  ccc"


def test_wrap_never_breaks_a_word():
    assert wrap("x" * 30, width=10) == "x" * 30


def test_wrap_leaves_markdown_code_and_tables_alone():
    text = "```\n" + "a " * 20 + "\n```\n| " + "b " * 20 + "|\n    " + "c " * 20
    assert wrap(text, width=10, markdown=True) == text


def test_colorize_wraps_text_in_sgr_codes():
    assert colorize("x", "bold red") == "\x1b[1;31mx\x1b[0m"


def test_colorize_disabled_returns_the_text():
    assert colorize("x", "bold red", enabled=False) == "x"
