"""An ``.ipynb`` file from outside, turned into a notebook dict every reader can rely on.

A notebook file is untrusted input. It is parsed with the json module and checked by hand,
never by jsonschema (reading 200 notebooks must take a blink), and every problem with it is one
:class:`NotebookReadError` that names the file, so one broken notebook never takes a listing,
a collection or a report down with it.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TypeGuard

from ._errors import NotebookNotFoundError, NotebookReadError
from ._storage import is_url

__all__ = [
    "TOO_DEEP",
    "PathLike",
    "checked",
    "checked_bytes",
    "is_int",
    "read_checked",
    "read_metadata",
]

PathLike = str | os.PathLike[str]

#: JSON nested deeper than Python's recursion limit parses but cannot be walked.
TOO_DEEP = "not a notebook: nested too deep"


def read_checked(
    path: PathLike, storage_options: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """The checked notebook dict in ``path`` (a local path, or a URL that ``_storage`` reads
    with ``storage_options``); every problem is one :class:`NotebookReadError`."""
    where = os.fspath(path)
    if isinstance(path, str) and is_url(path):
        from ._storage import read_bytes

        return checked_bytes(read_bytes(path, storage_options), where)
    return checked(_parsed(path, where), where)


def checked_bytes(data: bytes, where: str) -> dict[str, Any]:
    """The checked notebook dict in ``data``, the bytes of a notebook read from ``where``
    (a URL): checked exactly as a local file's text is."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise NotebookReadError.from_reason(where, f"not UTF-8 text ({exc.reason})") from None
    return checked(_parsed_text(text, where), where)


def read_metadata(path: PathLike) -> dict[str, Any]:
    """The notebook-level ``metadata`` of the notebook in ``path``, checked as a read checks it.

    What collection needs. The json module cannot skip the cells (nbformat writes them before
    the metadata), so the whole file is parsed once; its cells are checked but not rejoined,
    and nothing but the metadata outlives this call.
    """
    where = os.fspath(path)
    metadata: dict[str, Any] = checked(_parsed(path, where), where, normalise=False)["metadata"]
    return metadata


def is_int(value: Any) -> TypeGuard[int]:
    """An int that is not a bool: what nbformat's counts and version numbers must be."""
    return isinstance(value, int) and not isinstance(value, bool)


def _parsed(path: PathLike, where: str) -> Any:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise NotebookNotFoundError.from_missing(where) from None
    except IsADirectoryError:
        raise NotebookReadError.from_reason(
            where, "it is a folder; use read_notebooks() for folders"
        ) from None
    except UnicodeDecodeError as exc:
        raise NotebookReadError.from_reason(where, f"not UTF-8 text ({exc.reason})") from None
    except OSError as exc:
        raise NotebookReadError.from_reason(where, exc.strerror or str(exc)) from None
    return _parsed_text(text, where)


def _parsed_text(text: str, where: str) -> Any:
    try:
        node = json.loads(text)
    except json.JSONDecodeError as exc:
        # json's "Unterminated string starting at" already ends with "at".
        message = exc.msg.removesuffix(" at")
        raise NotebookReadError.from_reason(
            where, f"not valid JSON: {message} at line {exc.lineno}, column {exc.colno}"
        ) from None
    except RecursionError:
        raise NotebookReadError.from_reason(where, "not valid JSON: nested too deep") from None
    except ValueError:
        # Python refuses to convert longer integers (their conversion is quadratic); nothing
        # in a notebook needs one, so such a file is refused whole rather than half-read.
        raise NotebookReadError.from_reason(
            where, f"it holds a number of more than {sys.get_int_max_str_digits()} digits"
        ) from None
    return node


def checked(node: Any, where: str, *, normalise: bool = True) -> dict[str, Any]:
    """Checks the structure every reader relies on, and (``normalise``) rejoins split text as
    nbformat does."""
    if not isinstance(node, dict):
        raise NotebookReadError.from_reason(
            where, f"not a notebook: the top level is a JSON {type(node).__name__}, not an object"
        )
    version = node.get("nbformat")
    if not is_int(version):
        raise NotebookReadError.from_reason(where, "not a notebook: it has no 'nbformat' number")
    if not is_int(node.get("nbformat_minor", 0)):
        raise NotebookReadError.from_reason(
            where, "not a notebook: its 'nbformat_minor' is not a number"
        )
    if version < 4:
        raise NotebookReadError.from_reason(
            where,
            f"nbformat {version} is not supported; upgrade it with "
            "`jupyter nbconvert --to notebook --nbformat 4 --inplace FILE`",
        )
    metadata = node.setdefault("metadata", {})
    cells = node.get("cells")
    if not isinstance(metadata, dict):
        raise NotebookReadError.from_reason(where, "not a notebook: 'metadata' is not an object")
    if not isinstance(cells, list):
        raise NotebookReadError.from_reason(where, "not a notebook: 'cells' is not a list")
    for index, cell in enumerate(cells):
        _check_cell(cell, f"cells[{index}]", where, normalise)
    return node


def _check_cell(cell: Any, at: str, where: str, normalise: bool) -> None:
    def bad(what: str) -> NotebookReadError:
        return NotebookReadError.from_reason(where, f"not a notebook: {at}{what}")

    def text(container: dict[str, Any], key: str, what: str, default: Any = None) -> None:
        value = container.get(key, default)
        if isinstance(value, str):
            if normalise:
                container[key] = value  # a missing source becomes ""
            return
        if not isinstance(value, list) or not all(isinstance(line, str) for line in value):
            raise bad(f"{what} is not text")
        if normalise:
            container[key] = "".join(value)

    if not isinstance(cell, dict):
        raise bad(" is not an object")
    if not isinstance(cell.get("cell_type"), str):
        raise bad(" has no 'cell_type'")
    if not isinstance(cell.setdefault("metadata", {}), dict):
        raise bad(".metadata is not an object")
    text(cell, "source", ".source", "")
    outputs = cell.get("outputs")
    if outputs is None:
        return
    if not isinstance(outputs, list):
        raise bad(".outputs is not a list")
    for index, output in enumerate(outputs):
        if not isinstance(output, dict) or not isinstance(output.get("output_type"), str):
            raise bad(f".outputs[{index}] is not an output")
        if "text" in output:
            text(output, "text", f".outputs[{index}].text")
        data = output.get("data")
        if isinstance(data, dict):
            for mime, value in data.items():
                if isinstance(value, list) and not _is_json_mime(mime):
                    text(data, mime, f".outputs[{index}].data")


def _is_json_mime(mime: str) -> bool:
    return mime == "application/json" or mime.endswith("+json")
