"""Reading executed notebooks back: ``read_notebook``, ``read_notebooks``, Notebook, Scrapbook.

Notebooks are parsed with the json module and checked by hand, never by jsonschema: reading
200 notebooks must take a blink. Scraps are found on first use and each one's data is decoded
only when asked for, so one corrupt scrap never hides the others.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterable, Iterator, Mapping, MutableMapping
from copy import deepcopy
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeGuard

from ._errors import NotebookNotFoundError, NotebookReadError, ScrapNotFoundError
from ._scraps import Scrap, Scraps, scraps_from_cells

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["Notebook", "NotebookNode", "Scrapbook", "read_notebook", "read_notebooks"]

PathLike = str | os.PathLike[str]

# JSON nested deeper than Python's recursion limit parses but cannot be walked.
_TOO_DEEP = "not a notebook: nested too deep"


class NotebookNode(dict[str, Any]):
    """A dict that also reads its keys as attributes, like nbformat's (without importing it)."""

    def __getattr__(self, key: str) -> Any:
        try:
            return self[key]
        except KeyError:
            raise AttributeError(key) from None

    @classmethod
    def wrap(cls, value: Any) -> Any:
        if isinstance(value, dict):
            return cls((key, cls.wrap(item)) for key, item in value.items())
        if isinstance(value, list):
            return [cls.wrap(item) for item in value]
        return value


class Notebook:
    """An executed notebook as read from disk (or from a notebook dict), with its scraps.

    ``Notebook("run.ipynb")`` reads the file, as scrapbook's ``Notebook`` does;
    ``Notebook(node, path)`` wraps a notebook dict already in memory, as it is.
    """

    def __init__(self, node: Mapping[str, Any] | PathLike, path: PathLike | None = None) -> None:
        if isinstance(node, (str, os.PathLike)):
            path, node = node, _read_file(node)
        self._raw = node
        self.path = os.fspath(path) if path is not None else ""

    @classmethod
    def from_node(
        cls, node: Mapping[str, Any], path: PathLike | None = None, *, copy: bool = True
    ) -> Notebook:
        """Wraps an in-memory notebook (a dict or an nbformat NotebookNode).

        Reading normalises cells in place, so the node is copied first, unless the caller
        hands over a dict it will not touch again (``copy=False``).
        """
        where = os.fspath(path) if path is not None else "<notebook>"
        try:
            owned = deepcopy(dict(node)) if copy else dict(node)
        except RecursionError:
            raise NotebookReadError.from_reason(where, _TOO_DEEP) from None
        return cls(_checked(owned, where), path)

    @classmethod
    def from_path(cls, path: PathLike) -> Notebook:
        """Reads a ``.ipynb`` file; every problem is one :class:`NotebookReadError`."""
        return cls(path)

    # -- nbformat's fields -------------------------------------------------------------------

    @cached_property
    def node(self) -> NotebookNode:
        """The whole notebook, with attribute access (``nb.node.cells[0].source``)."""
        try:
            wrapped: NotebookNode = NotebookNode.wrap(self._raw)
        except RecursionError:
            raise NotebookReadError.from_reason(self.path or "<notebook>", _TOO_DEEP) from None
        return wrapped

    @property
    def cells(self) -> list[NotebookNode]:
        cells: list[NotebookNode] = self.node["cells"]
        return cells

    @property
    def metadata(self) -> NotebookNode:
        metadata: NotebookNode = self.node["metadata"]
        return metadata

    @property
    def nbformat(self) -> int:
        return int(self._raw["nbformat"])

    @property
    def nbformat_minor(self) -> int:
        return int(self._raw.get("nbformat_minor", 0))

    @property
    def filename(self) -> str:
        return Path(self.path).name

    @property
    def directory(self) -> str:
        return str(Path(self.path).parent) if self.path else ""

    @property
    def name(self) -> str:
        """The file stem, the key this notebook has in a :class:`Scrapbook`."""
        return Path(self.filename).stem

    # -- what papermill recorded ---------------------------------------------------------------

    @property
    def parameters(self) -> dict[str, Any]:
        """The parameters papermill injected (``metadata.papermill.parameters``)."""
        papermill = self._raw["metadata"].get("papermill")
        parameters = papermill.get("parameters") if isinstance(papermill, Mapping) else None
        return dict(parameters) if isinstance(parameters, Mapping) else {}

    @property
    def cell_timing(self) -> list[float | None]:
        """Seconds each cell took, in cell order; None for cells that did not run."""
        return [_duration(cell) for cell in self._raw["cells"]]

    @property
    def execution_counts(self) -> list[int | None]:
        counts = (cell.get("execution_count") for cell in self._raw["cells"])
        return [count if _is_int(count) else None for count in counts]

    # -- scraps --------------------------------------------------------------------------------

    @cached_property
    def scraps(self) -> Scraps:
        return scraps_from_cells(self._raw["cells"])

    @property
    def scrap_dataframe(self) -> pd.DataFrame:
        """One row per scrap: name, data, encoder, display, filename."""
        frame = self.scraps.dataframe
        frame["filename"] = self.filename
        return frame

    @property
    def parameter_dataframe(self) -> pd.DataFrame:
        """One row per parameter: name, value, type (``"parameter"``), filename."""
        import pandas as pd

        parameters = self.parameters
        rows = [[name, parameters[name], "parameter", self.filename] for name in sorted(parameters)]
        frame: pd.DataFrame = pd.DataFrame(rows, columns=["name", "value", "type", "filename"])
        return frame

    @property
    def papermill_record_dataframe(self) -> pd.DataFrame:
        """Scrap data in papermill 1.x's record layout: name, value, type, filename."""
        import pandas as pd

        rows = [
            [name, scrap.data, "record", self.filename]
            for name, scrap in sorted(self.scraps.data_scraps.items())
        ]
        frame: pd.DataFrame = pd.DataFrame(rows, columns=["name", "value", "type", "filename"])
        return frame

    @property
    def papermill_dataframe(self) -> pd.DataFrame:
        """Parameters and scrap data together, as papermill 1.x's ``dataframe`` was."""
        import pandas as pd

        frames = [self.parameter_dataframe, self.papermill_record_dataframe]
        return pd.concat([frame for frame in frames if len(frame)] or frames, ignore_index=True)

    def reglue(
        self,
        name: str,
        new_name: str | None = None,
        raise_on_missing: bool = True,
        unattached: bool = False,
    ) -> None:
        """Re-emits scrap ``name`` (data and display) into the running kernel's outputs."""
        from ._glue import reglue_scrap, show

        if name not in self.scraps:
            if raise_on_missing:
                raise ScrapNotFoundError.from_names(name, self.scraps)
            show(f"No scrap found with name {name!r} in this notebook")
            return
        reglue_scrap(self.scraps[name], new_name, unattached=unattached)

    def copy(self) -> Notebook:
        return Notebook(json.loads(json.dumps(self._raw)), self.path)

    def __reduce__(self) -> tuple[Any, ...]:
        return (Notebook, (self._raw, self.path))

    def __repr__(self) -> str:
        return f"Notebook(path={self.path!r}, scraps={list(self.scraps)!r})"


def _read_file(path: PathLike) -> dict[str, Any]:
    """The checked notebook dict in ``path``; every problem is one :class:`NotebookReadError`."""
    where = os.fspath(path)
    return _checked(_parsed(path, where), where)


def read_metadata(path: PathLike) -> dict[str, Any]:
    """The notebook-level ``metadata`` of the notebook in ``path``, checked as a read checks it.

    What collection needs. The json module cannot skip the cells (nbformat writes them before
    the metadata), so the whole file is parsed once; its cells are checked but not rejoined,
    and nothing but the metadata outlives this call.
    """
    where = os.fspath(path)
    metadata: dict[str, Any] = _checked(_parsed(path, where), where, normalise=False)["metadata"]
    return metadata


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


def _is_int(value: Any) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def _duration(cell: Mapping[str, Any]) -> float | None:
    if not _is_int(cell.get("execution_count")):
        return None
    metadata = cell["metadata"].get("papermill")
    duration = metadata.get("duration") if isinstance(metadata, Mapping) else None
    return float(duration) if isinstance(duration, (int, float)) else 0.0


def _checked(node: Any, where: str, *, normalise: bool = True) -> dict[str, Any]:
    """Checks the structure every reader relies on, and (``normalise``) rejoins split text as
    nbformat does."""
    if not isinstance(node, dict):
        raise NotebookReadError.from_reason(
            where, f"not a notebook: the top level is a JSON {type(node).__name__}, not an object"
        )
    version = node.get("nbformat")
    if not _is_int(version):
        raise NotebookReadError.from_reason(where, "not a notebook: it has no 'nbformat' number")
    if not _is_int(node.get("nbformat_minor", 0)):
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


def read_notebook(notebook: PathLike | Mapping[str, Any]) -> Notebook:
    """Reads one notebook: a path to a ``.ipynb`` file, or an in-memory notebook dict."""
    if isinstance(notebook, Mapping):
        return Notebook.from_node(notebook)
    return Notebook.from_path(notebook)


class Scrapbook(MutableMapping[str, Notebook]):
    """Notebooks by name (file stem), with their scraps gathered."""

    def __init__(self, notebooks: Iterable[tuple[str, Notebook]] = ()) -> None:
        self._notebooks: dict[str, Notebook] = dict(notebooks)

    def __getitem__(self, name: str) -> Notebook:
        return self._notebooks[name]

    def __setitem__(self, name: str, notebook: Notebook | PathLike) -> None:
        if not isinstance(notebook, Notebook):
            notebook = Notebook.from_path(notebook)
        self._notebooks[name] = notebook

    def __delitem__(self, name: str) -> None:
        del self._notebooks[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._notebooks)

    def __len__(self) -> int:
        return len(self._notebooks)

    def __repr__(self) -> str:
        return f"Scrapbook({list(self._notebooks)!r})"

    @property
    def notebooks(self) -> list[Notebook]:
        return list(self._notebooks.values())

    @property
    def notebook_scraps(self) -> dict[str, Scraps]:
        """Notebook name → that notebook's scraps."""
        return {name: notebook.scraps for name, notebook in self._notebooks.items()}

    @property
    def scraps(self) -> Scraps:
        """All scraps merged; a later notebook's scrap replaces an earlier one of the same name."""
        merged = Scraps()
        for notebook in self._notebooks.values():
            merged.update(notebook.scraps)
        return merged

    @property
    def scrap_dataframe(self) -> pd.DataFrame:
        return self._concat(notebook.scrap_dataframe for notebook in self.notebooks)

    @property
    def parameter_dataframe(self) -> pd.DataFrame:
        return self._concat(notebook.parameter_dataframe for notebook in self.notebooks)

    @property
    def papermill_dataframe(self) -> pd.DataFrame:
        frames = []
        for name, notebook in self._notebooks.items():
            frame = notebook.papermill_dataframe
            frame["key"] = name
            frames.append(frame)
        return self._concat(frames)

    @staticmethod
    def _concat(frames: Iterable[pd.DataFrame]) -> pd.DataFrame:
        import pandas as pd

        listed = list(frames)
        non_empty = [frame for frame in listed if len(frame)]
        if not listed:
            empty: pd.DataFrame = pd.DataFrame()
            return empty
        frame: pd.DataFrame = pd.concat(non_empty or listed[:1], ignore_index=True)
        return frame

    def scraps_report(
        self,
        scrap_names: str | Iterable[str] | None = None,
        notebook_names: str | Iterable[str] | None = None,
        include_data: bool = False,
        headers: bool = True,
    ) -> None:
        """Displays, in the running kernel, each notebook's display scraps (and data scraps
        with ``include_data``), under markdown headers."""
        from ._glue import show_markdown

        wanted = [scrap_names] if isinstance(scrap_names, str) else list(scrap_names or [])
        if notebook_names is None:
            notebook_names = list(self._notebooks)
        elif isinstance(notebook_names, str):
            notebook_names = [notebook_names]
        for index, notebook_name in enumerate(notebook_names):
            notebook = self[notebook_name]
            if headers:
                if index:
                    show_markdown("<hr>")
                show_markdown(f"### {notebook_name}")
            for name in wanted or list(notebook.scraps.display_scraps):
                if headers:
                    show_markdown(f"#### {name}")
                notebook.reglue(name, raise_on_missing=False, unattached=True)
            if include_data:
                _report_data(notebook, wanted, headers=headers)


def _report_data(notebook: Notebook, wanted: list[str], *, headers: bool) -> None:
    from ._glue import show, show_markdown

    for name, scrap in notebook.scraps.data_scraps.items():
        if (wanted and name not in wanted) or scrap.display is not None:
            continue
        if headers:
            show_markdown(f"#### {name}")
            show(short_repr(scrap))
        else:
            show(f"{name}: {short_repr(scrap)}")


def short_repr(scrap: Scrap, width: int = 100) -> str:
    """A one-line, width-bounded form of a scrap's data (or of why it cannot be read)."""
    try:
        text = scrap.data if isinstance(scrap.data, str) else repr(scrap.data)
    except Exception as exc:  # a corrupt scrap is reported, not raised, in listings
        text = f"<error: {exc}>"
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 3] + "..."


def read_notebooks(
    path: PathLike | Iterable[PathLike],
    pattern: str = "*.ipynb",
    *,
    recursive: bool = False,
) -> Scrapbook:
    """Reads every notebook in a folder (or each of several paths) into a :class:`Scrapbook`.

    Names are file stems; with ``recursive=True`` a notebook in a subfolder is named by its
    relative path without the suffix. ``.ipynb_checkpoints`` folders are never read.
    """
    book = Scrapbook()
    for name, file in notebook_files(path, pattern, recursive=recursive):
        book[name] = Notebook.from_path(file)
    return book


def notebook_files(
    path: PathLike | Iterable[PathLike],
    pattern: str = "*.ipynb",
    *,
    recursive: bool = False,
) -> list[tuple[str, Path]]:
    """What :func:`read_notebooks` reads: each notebook's name and file, in order."""
    roots = [path] if isinstance(path, (str, os.PathLike)) else list(path)
    files: list[tuple[str, Path]] = []
    for root in map(Path, roots):
        if root.is_file():
            files.append((root.stem, root))
            continue
        if not root.is_dir():
            raise NotebookNotFoundError.from_missing(os.fspath(root), "no such file or folder")
        found = root.rglob(pattern) if recursive else root.glob(pattern)
        for file in sorted(found):
            relative = file.relative_to(root)
            if ".ipynb_checkpoints" in relative.parts or not file.is_file():
                continue
            files.append((relative.with_suffix("").as_posix(), file))
    return files
