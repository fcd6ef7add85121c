"""The executed notebook's file: written atomically, as checkpoints while the run lasts and
once at its end, in exactly the text ``nbformat.writes`` gives, streamed.

A checkpoint is written from a snapshot, in a thread, so a big notebook's dump does not stop
the reading of the kernel's output. The text is nbformat's, produced chunk by chunk, so a huge
output is never held again as one string.
"""

from __future__ import annotations

import asyncio
import copy
import json
import re
import threading
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import nbformat as _nbformat
from nbformat import NotebookNode
from nbformat.v4.nbjson import BytesEncoder
from traitlets.log import get_logger

from ._kernels import log

__all__ = [
    "CHECKPOINT_FIRST",
    "CHECKPOINT_MAX",
    "Lines",
    "Writer",
    "file_chunks",
    "plain",
    "write_checkpoints",
]

# nbformat's functions are unannotated; reached through Any, they are visibly untyped here.
nbformat: Any = _nbformat

CHECKPOINT_FIRST = 1.0
CHECKPOINT_MAX = 30.0
"""While a run lasts, the executed-so-far notebook is written to ``output_path`` after
``CHECKPOINT_FIRST`` seconds, then at doubling intervals up to ``CHECKPOINT_MAX``: a process
killed mid-notebook (an xdist worker, the OOM killer) leaves what ran. Short runs write once."""


class Writer:
    """Writes one run's notebook to ``target``: checkpoints now and then, the final one once.

    A checkpoint is written in a thread (validating and dumping the whole notebook takes
    seconds for a big one, which on the event loop would stop the reading of the kernel's
    output), from a snapshot taken on the loop, where nothing changes the notebook meanwhile.
    Once the final notebook is written, no checkpoint still in flight may replace it; if the
    final one cannot be written (a full disk), a checkpoint published earlier is removed: a
    partial run at the output path would be read as the run's result, scraps missing.
    """

    def __init__(
        self, target: Path | str, storage_options: Mapping[str, Any] | None = None
    ) -> None:
        # A str is a URL (``_storage``): it is uploaded whole by ``final``, and takes no
        # checkpoints (each would be an upload).
        self.target = target
        self.remote = isinstance(target, str)
        self._storage_options = storage_options
        self._lock = threading.Lock()
        self._closed = False
        self._published = False  # a checkpoint of ours is at ``target``

    def checkpoint(self, snapshot: NotebookNode) -> None:
        """In a worker thread: writes ``snapshot`` (which it owns) unless the final is written."""
        assert isinstance(self.target, Path), "a URL takes no checkpoints"
        _validate(snapshot)
        _write_atomically(file_chunks(snapshot), self.target, self._publish_checkpoint)

    def final(self, nb: NotebookNode) -> None:
        _validate(nb)
        if isinstance(self.target, str):
            from ._storage import write_bytes

            # One upload of the whole text: an object store shows it whole or not at all.
            text = "".join(file_chunks(copy.deepcopy(nb)))
            write_bytes(self.target, text.encode("utf-8"), self._storage_options)
            return
        target = self.target
        # A structural copy (the strings are shared): the file's layout changes it.
        try:
            _write_atomically(file_chunks(copy.deepcopy(nb)), target, self._publish_final)
        except BaseException:
            with self._lock:
                self._closed = True
                if self._published:
                    target.unlink(missing_ok=True)
            raise

    def _publish_checkpoint(self, temporary: Path) -> None:
        with self._lock:
            if self._closed:
                temporary.unlink()
            else:
                temporary.replace(Path(self.target))
                self._published = True

    def _publish_final(self, temporary: Path) -> None:
        with self._lock:
            self._closed = True
            temporary.replace(Path(self.target))


async def write_checkpoints(nb: NotebookNode, writer: Writer) -> None:
    """Writes the notebook as it stands, now and then, until cancelled (see CHECKPOINT_FIRST)."""
    delay = CHECKPOINT_FIRST
    while True:
        await asyncio.sleep(delay)
        # A structural copy: the strings (the bulk of a big notebook) are shared, not copied.
        snapshot = copy.deepcopy(nb)
        try:
            await asyncio.to_thread(writer.checkpoint, snapshot)
        except OSError as exc:  # a full disk: the final write says so, with the run's result
            log.warning("checkpoint of %s not written: %s", writer.target, exc)
            return
        delay = min(delay * 2, CHECKPOINT_MAX)


def plain(nb: NotebookNode) -> dict[str, Any]:
    """A plain copy: the result must not change with ``nb`` and must pickle anywhere.

    Its dicts and lists are new (nbformat's nodes become dicts); its strings, the bulk of a big
    notebook, are ``nb``'s own, being immutable: a JSON round trip would hold the notebook
    twice more (the text, then the parsed copy) at the run's peak.
    """
    copied: dict[str, Any] = _plain_value(nb)
    return copied


def _plain_value(value: Any) -> Any:
    if type(value) in _JSON_SCALARS:
        return value
    if isinstance(value, dict) and all(type(key) is str for key in value):
        return {key: _plain_value(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain_value(item) for item in value]
    # Anything else becomes what JSON makes of it (or fails as JSON would), as it always did.
    return json.loads(json.dumps(value))


_JSON_SCALARS = frozenset({str, int, float, bool, type(None)})


def _validate(nb: NotebookNode) -> None:
    """Validates as ``nbformat.writes`` does: an invalid notebook is logged, and still written."""
    try:
        nbformat.validate(nb)
    except nbformat.ValidationError as exc:
        get_logger().error("Notebook JSON is invalid: %s", exc)


@dataclass(frozen=True)
class Lines:
    """A string the file holds as its list of lines (nbformat's ``split_lines``), split lazily."""

    text: str

    def lines(self) -> Iterator[str]:
        # str.splitlines(True), one line at a time: splitting a big output at once copies it.
        return (match[0] for match in _LINE.finditer(self.text) if match[0])


_BREAKS = r"\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029"  # str.splitlines' line boundaries
_LINE = re.compile(rf"[^{_BREAKS}]*(?:\r\n|[{_BREAKS}])?")
# nbformat's v4 mimebundle rule (rwbase._split_mimebundle): text/* and these are split.
_SPLIT_MIMES = frozenset({"application/javascript", "image/svg+xml"})


def file_chunks(owned: NotebookNode) -> Iterator[str]:
    """The text ``nbformat.writes`` makes of a notebook (the same characters), chunk by chunk.

    ``owned`` is changed on the way (it must be a copy, as nbformat's writer makes one): its
    multi-line strings are marked to be written as lists of lines, and nbformat strips its
    transient fields. Streaming to the file never holds the whole text, nor the split lines.
    """
    for cell in owned.cells:
        if isinstance(cell.get("source"), str):
            cell["source"] = Lines(cell["source"])
        for attachment in cell.get("attachments", {}).values():
            _split_bundle(attachment)
        if cell.cell_type == "code":
            for output in cell.outputs:
                if output.output_type in {"execute_result", "display_data"}:
                    _split_bundle(output.get("data", {}))
                elif output.output_type == "stream" and isinstance(output.text, str):
                    output["text"] = Lines(output.text)
    return _json_chunks(nbformat.v4.rwbase.strip_transient(owned), 0)


def _split_bundle(data: dict[str, Any]) -> None:
    for key, value in data.items():
        if isinstance(value, str) and (key.startswith("text/") or key in _SPLIT_MIMES):
            data[key] = Lines(value)


def _json_chunks(value: Any, level: int) -> Iterator[str]:
    """``value`` in nbformat's JSON layout (see _dumps), with ``level`` as its indentation."""
    inner = "\n" + " " * (level + 1)
    if isinstance(value, Lines):
        separator = "["
        for line in value.lines():
            yield separator + inner
            yield _dumps(line)
            separator = ","
        yield "[]" if separator == "[" else "\n" + " " * level + "]"
    elif isinstance(value, dict) and value and all(type(key) is str for key in value):
        separator = "{"
        for key, item in sorted(value.items()):
            yield separator + inner + _dumps(key) + ": "
            yield from _json_chunks(item, level + 1)
            separator = ","
        yield "\n" + " " * level + "}"
    elif isinstance(value, (list, tuple)) and value:
        separator = "["
        for item in value:
            yield separator + inner
            yield from _json_chunks(item, level + 1)
            separator = ","
        yield "\n" + " " * level + "]"
    else:  # scalars, empty containers, odd keys: json's own text, indented where it nests
        text = _dumps(value)
        yield text.replace("\n", "\n" + " " * level) if level and "\n" in text else text


# nbformat's v4 JSON layout (nbjson.JSONWriter.writes). JSON text holds newlines only between
# its items (never inside a string), so indenting every one nests a dumped value.
_dumps = partial(
    json.dumps,
    cls=BytesEncoder,
    indent=1,
    sort_keys=True,
    separators=(",", ": "),
    ensure_ascii=False,
)


def _write_atomically(chunks: Iterable[str], target: Path, publish: Callable[[Path], None]) -> None:
    """Writes ``chunks`` to a temporary file that ``publish`` renames: ``target`` is never
    seen half-written."""
    target.parent.mkdir(parents=True, exist_ok=True)
    # Same folder, so os.replace is a rename; "x" mode honours the umask, unlike mkstemp.
    temporary = target.with_name(f".{target.name}.{uuid.uuid4().hex[:12]}.tmp")
    try:
        with temporary.open("x", encoding="utf-8") as stream:
            for chunk in chunks:
                stream.write(chunk)
        publish(temporary)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
