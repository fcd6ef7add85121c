"""Folders of notebooks: :class:`Scrapbook` and ``read_notebooks``, and their reports.

Which files a folder holds (``notebook_files``) has one home here: ``read_notebooks`` and the
command line's ``nbscrap scraps`` both list a folder through it.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Mapping, MutableMapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ._errors import NotebookNotFoundError
from ._reader import Notebook
from ._scraps import Scrap, Scraps
from ._storage import is_url
from ._text import one_line
from ._validate import PathLike, checked_bytes

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["Scrapbook", "notebook_files", "read_notebooks", "short_repr"]


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
    return one_line(text, width)


def read_notebooks(
    path: PathLike | Iterable[PathLike],
    pattern: str = "*.ipynb",
    *,
    recursive: bool = False,
    storage_options: Mapping[str, Any] | None = None,
) -> Scrapbook:
    """Reads every notebook in a folder (or each of several paths) into a :class:`Scrapbook`.

    Names are file stems; with ``recursive=True`` a notebook in a subfolder is named by its
    relative path without the suffix. ``.ipynb_checkpoints`` folders are never read. A path
    may be a URL of a folder or prefix on a store (``s3://bucket/runs``), whose notebooks are
    fetched concurrently; ``storage_options`` go to its fsspec client.
    """
    book = Scrapbook()
    listed = notebook_files(path, pattern, recursive=recursive, storage_options=storage_options)
    remote = [file for _, file in listed if isinstance(file, str)]
    fetched = dict(zip(remote, _fetch(remote, storage_options), strict=True))
    for name, file in listed:
        if isinstance(file, str):
            book[name] = Notebook(checked_bytes(fetched[file], file), file)
        else:
            book[name] = Notebook.from_path(file)
    return book


def _fetch(urls: list[str], storage_options: Mapping[str, Any] | None) -> list[bytes]:
    """The bytes of ``urls``, one concurrent batch per store (scheme and bucket)."""
    if not urls:
        return []
    from ._storage import read_many

    stores: dict[str, list[str]] = {}
    for url in urls:
        scheme, _, rest = url.partition("://")
        stores.setdefault(f"{scheme}://{rest.partition('/')[0]}", []).append(url)
    data: dict[str, bytes] = {}
    for batch in stores.values():
        data.update(zip(batch, read_many(batch, storage_options), strict=True))
    return [data[url] for url in urls]


def notebook_files(
    path: PathLike | Iterable[PathLike],
    pattern: str = "*.ipynb",
    *,
    recursive: bool = False,
    storage_options: Mapping[str, Any] | None = None,
) -> list[tuple[str, Path | str]]:
    """What :func:`read_notebooks` reads: each notebook's name and file (a URL stays a
    ``str``), in order."""
    roots = [path] if isinstance(path, (str, os.PathLike)) else list(path)
    files: list[tuple[str, Path | str]] = []
    for given in roots:
        if isinstance(given, str) and is_url(given):
            from ._storage import list_notebooks

            files += list_notebooks(
                given, pattern, recursive=recursive, storage_options=storage_options
            )
            continue
        root = Path(given)
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
