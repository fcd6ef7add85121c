"""Sanitizing outputs before they are compared: nbval's sanitize file, and the same pairs inline.

nbval's format (its ``get_sanitize_patterns``) is a text of ``regex: PATTERN`` lines, each
followed on the next line by ``replace: REPLACEMENT``; other lines (section headers such as
``[regex1]``, comments) are ignored. Every pair is applied in order with :func:`re.sub` to every
string compared, stored and fresh alike. The ini key ``nbscrap_sanitize`` takes the same lines;
there every non-blank line must belong to a pair, since a typo there has no other place to show.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from ._errors import UsageError

__all__ = ["Sanitizer"]

# nbval's pattern, '^regex: (.*)$\n^replace: (.*)$', with the space after the colon optional:
# pytest strips each line of an ini "linelist", so an empty replacement arrives as "replace:".
_PAIR = re.compile(r"^regex: ?(.*)$\n^replace: ?(.*)$", re.MULTILINE)


@dataclass(frozen=True)
class Sanitizer:
    """Compiled ``(pattern, replacement)`` pairs, applied in order; none: text is unchanged."""

    pairs: tuple[tuple[re.Pattern[str], str], ...] = ()

    def __call__(self, text: str) -> str:
        for pattern, replacement in self.pairs:
            text = pattern.sub(replacement, text)
        return text

    def __add__(self, other: Sanitizer) -> Sanitizer:
        return Sanitizer(self.pairs + other.pairs)

    @classmethod
    def parse(cls, text: str, where: str, *, strict: bool = False) -> Sanitizer:
        """The pairs of ``text`` (nbval's format), read from ``where`` (named in errors).

        ``strict``: a non-blank line outside a pair is an error (the ini form).
        """
        text = text.replace("\r\n", "\n")
        pairs = []
        for match in _PAIR.finditer(text):
            try:
                pattern = re.compile(match.group(1))
            except re.error as exc:
                raise UsageError(
                    f"{where}: regex {match.group(1)!r} is not a regular expression: {exc}",
                    path=where,
                ) from None
            _check_replacement(pattern, match.group(2), where)
            pairs.append((pattern, match.group(2)))
        if strict:
            left = _PAIR.sub("", text).strip()
            if left:
                line = left.splitlines()[0]
                raise UsageError(
                    f"{where}: {line[:100]!r} is not part of a 'regex: ...' line followed by "
                    "a 'replace: ...' line",
                    path=where,
                )
        return cls(tuple(pairs))

    @classmethod
    def from_file(cls, path: Path) -> Sanitizer:
        """nbval's sanitize file (``--nbval-sanitize-with``'s), unchanged."""
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            reason = getattr(exc, "strerror", None) or str(exc)
            raise UsageError(
                f"Cannot read sanitize file {path}: {reason}", path=str(path)
            ) from None
        return cls.parse(text, str(path))


def _check_replacement(pattern: re.Pattern[str], replacement: str, where: str) -> None:
    """A bad group reference (``\\3`` of a one-group regex) fails here, once, not per output:
    ``(?:PATTERN)?`` has the same groups and matches the empty string, so the replacement is
    expanded once."""
    try:
        probe = re.compile(f"(?:{pattern.pattern})?", pattern.flags)
    except re.error:  # global flags such as (?i) must come first: such a pattern goes unchecked
        return
    try:
        probe.sub(replacement, "", count=1)
    except (re.error, IndexError) as exc:
        raise UsageError(
            f"{where}: replace {replacement!r} does not fit regex {pattern.pattern!r}: {exc}",
            path=where,
        ) from None
