"""An executed notebook read back: the :class:`Notebook` type and ``read_notebook``.

A :class:`Notebook` wraps a notebook dict that ``_validate`` has checked. Scraps are found on
first use and each one's data is decoded only when asked for, so one corrupt scrap never hides
the others. Folders of notebooks are ``_scrapbook``'s.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from copy import deepcopy
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ._errors import NotebookReadError, ScrapNotFoundError
from ._scraps import Scraps, scraps_from_cells
from ._storage import is_url, url_name, url_parent
from ._validate import TOO_DEEP, PathLike, checked, is_int, read_checked

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["Notebook", "NotebookNode", "read_notebook"]


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

    def __init__(
        self,
        node: Mapping[str, Any] | PathLike,
        path: PathLike | None = None,
        *,
        storage_options: Mapping[str, Any] | None = None,
    ) -> None:
        if isinstance(node, (str, os.PathLike)):
            path, node = node, read_checked(node, storage_options)
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
            raise NotebookReadError.from_reason(where, TOO_DEEP) from None
        return cls(checked(owned, where), path)

    @classmethod
    def from_path(
        cls, path: PathLike, *, storage_options: Mapping[str, Any] | None = None
    ) -> Notebook:
        """Reads a ``.ipynb`` file or URL; every problem is one :class:`NotebookReadError`.
        ``storage_options`` go to the URL's fsspec client (credentials, an endpoint)."""
        return cls(path, storage_options=storage_options)

    # -- nbformat's fields -------------------------------------------------------------------

    @cached_property
    def node(self) -> NotebookNode:
        """The whole notebook, with attribute access (``nb.node.cells[0].source``)."""
        try:
            wrapped: NotebookNode = NotebookNode.wrap(self._raw)
        except RecursionError:
            raise NotebookReadError.from_reason(self.path or "<notebook>", TOO_DEEP) from None
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
        return url_name(self.path) if is_url(self.path) else Path(self.path).name

    @property
    def directory(self) -> str:
        """The folder the notebook is in; for a URL, the URL of its folder (prefix)."""
        if is_url(self.path):
            return url_parent(self.path)
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
        return [count if is_int(count) else None for count in counts]

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


def read_notebook(
    notebook: PathLike | Mapping[str, Any], *, storage_options: Mapping[str, Any] | None = None
) -> Notebook:
    """Reads one notebook: a path or URL of a ``.ipynb`` file (``s3://bucket/run.ipynb``), or
    an in-memory notebook dict. ``storage_options`` go to the URL's fsspec client."""
    if isinstance(notebook, Mapping):
        return Notebook.from_node(notebook)
    return Notebook.from_path(notebook, storage_options=storage_options)


def _duration(cell: Mapping[str, Any]) -> float | None:
    if not is_int(cell.get("execution_count")):
        return None
    metadata = cell["metadata"].get("papermill")
    duration = metadata.get("duration") if isinstance(metadata, Mapping) else None
    return float(duration) if isinstance(duration, (int, float)) else 0.0
