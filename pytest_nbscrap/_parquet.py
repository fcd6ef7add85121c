"""DataFrames to Parquet bytes and back, the pandas encoder's format, read as untrusted input.

A scrap's Parquet comes from the notebook's author, so reading it is guarded: the data types
its pandas metadata asks for are checked before pandas and pyarrow allocate for them, and it is
read on the calling thread. pandas and pyarrow are imported only when a frame is encoded or read.
"""

from __future__ import annotations

from typing import Any

__all__ = ["from_parquet", "to_parquet"]


def to_parquet(value: Any) -> bytes:
    """A DataFrame (or a Series, as a one-column frame) as Parquet bytes."""
    import io

    import pandas as pd

    frame = value.to_frame() if isinstance(value, pd.Series) else value
    buffer = io.BytesIO()
    # Parquet counts rows by columns: a frame with rows but no columns keeps its rows only
    # when the index is stored as a column.
    frame.to_parquet(buffer, engine="pyarrow", index=True if frame.columns.empty else None)
    return buffer.getvalue()


def from_parquet(raw: bytes) -> Any:
    """The DataFrame in ``raw``, with the dtypes Parquet cannot hold restored.

    Raises ValueError for pandas metadata that asks for a data type no frame holds.
    """
    import io

    import pyarrow as pa
    import pyarrow.parquet as pq

    metadata = pq.read_schema(io.BytesIO(raw)).pandas_metadata or {}
    _check_dtypes(metadata)  # before pandas and pyarrow act on them
    # Read on the calling thread, through the single-file reader: pyarrow's threads may still be
    # winding down when the interpreter exits, which aborts the process ("terminate called
    # without an active exception", apache/arrow#34314). ``pd.read_parquet`` goes through
    # ``pq.read_table``, which starts an I/O thread even with use_threads=False and
    # pre_buffer=False; ``ParquetFile.read`` starts none. The frame is the same (to_pandas is
    # what read_parquet calls), and a scrap is small: one thread costs nothing.
    table = pq.ParquetFile(pa.BufferReader(raw)).read(use_threads=False)
    frame = table.to_pandas(use_threads=False)
    return _restore_dtypes(frame, metadata)


# What a data type in the pandas metadata may cost per value. The file's author chooses those
# types, and pyarrow and pandas convert to them (``astype``): a type of 2 GB per value in a
# 1.6 KB file would be a 6 GB allocation. The widest a DataFrame really holds is 16 bytes
# (complex128, longdouble).
_MAX_ITEMSIZE = 16
# The only types Parquet's timestamps are read back as; a datetime column is restored to one.
_DATETIME_TYPES = frozenset(f"datetime64[{unit}]" for unit in ("s", "ms", "us", "ns"))


def _check_dtypes(metadata: Any) -> None:
    """Raises ValueError for a type in the pandas metadata that could size an allocation."""
    import numpy as np

    if not isinstance(metadata, dict):
        raise ValueError("its pandas metadata is not an object")
    for key in ("columns", "column_indexes"):
        entries = metadata.get(key) or []
        if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
            raise ValueError(f"its pandas metadata {key!r} is not a list of objects")
        for entry in entries:
            for field in ("pandas_type", "numpy_type"):
                wanted = entry.get(field)
                try:
                    dtype = np.dtype(wanted) if isinstance(wanted, str) else None
                except (TypeError, ValueError, SyntaxError):
                    continue  # not a numpy type: pandas' own (category, Int64, string)
                if dtype is not None and (dtype.itemsize > _MAX_ITEMSIZE or dtype.kind == "V"):
                    raise ValueError(
                        f"its pandas metadata asks for data type {wanted[:100]!r} "
                        f"({dtype.itemsize} bytes a value), which no DataFrame column holds"
                    )


def _restore_dtypes(frame: Any, metadata: dict[str, Any]) -> Any:
    """Gives back the dtypes Parquet cannot hold, from the pandas metadata stored beside it.

    Parquet has no seconds: ``datetime64[s]`` is read as ``[ms]``. It keeps categories of
    strings only: an empty categorical, or one of numbers, is read as plain values; it is
    restored when every category is among the values (as when pandas made the categories).
    """
    import pandas as pd

    for column in metadata.get("columns", []):
        name, kind, wanted = column.get("name"), column.get("pandas_type"), column.get("numpy_type")
        if not isinstance(name, str) or name not in frame.columns:
            continue
        values = frame[name]
        if kind == "datetime" and wanted in _DATETIME_TYPES and str(values.dtype) != wanted:
            frame[name] = values.astype(wanted)
        elif kind == "categorical" and not isinstance(values.dtype, pd.CategoricalDtype):
            info = column.get("metadata") or {}
            present = pd.Index(values.dropna().unique())
            if info.get("ordered") or len(present) != info.get("num_categories"):
                continue
            if len(present) and present.dtype.kind == "f" and present.equals(present.round()):
                present = present.astype("int64")  # integers made floats by a missing value
            frame[name] = values.astype(pd.CategoricalDtype(present.sort_values()))
    return frame
