"""Encoders turn glued values into JSON and back; the registry picks one per value.

An encoder is any object with a ``name`` and three methods (see :class:`Encoder`). Built in:
``text``, ``json``, ``pandas`` and ``display``. Third-party encoders register themselves through
the ``pytest_nbscrap.encoders`` entry-point group, or by calling :func:`register_encoder` (or
``registry.register``, scrapbook's way, which also takes encoders written for scrapbook 0.5).

Nothing here imports pandas, numpy or pyarrow up front: a value can only be a DataFrame or a numpy
scalar if its library is already imported, so ``sys.modules`` is asked instead.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import math
import sys
from collections.abc import Iterator
from typing import Any, Protocol, TypeAlias, TypeVar, runtime_checkable

from . import _parquet
from ._errors import EncoderError, NoEncoderError, UsageError

__all__ = [
    "ENTRY_POINT_GROUP",
    "DisplayEncoder",
    "Encoder",
    "EncoderRegistry",
    "JSONValue",
    "JsonEncoder",
    "PandasEncoder",
    "ScrapbookEncoderAdapter",
    "ScrapbookStyleEncoder",
    "TextEncoder",
    "lookup_encoder",
    "register_encoder",
    "registry",
    "unregister_encoder",
]

ENTRY_POINT_GROUP = "pytest_nbscrap.encoders"

#: What an encoder produces and consumes: anything :func:`json.dumps` accepts.
JSONValue: TypeAlias = Any


@runtime_checkable
class Encoder(Protocol):
    """Turns values of some types into JSON and back. ``name`` is the wire name."""

    @property
    def name(self) -> str: ...

    def encodable(self, value: Any) -> bool: ...

    def encode(self, value: Any) -> JSONValue: ...

    def decode(self, data: JSONValue) -> Any: ...


def _module(name: str) -> Any:
    return sys.modules.get(name)


class TextEncoder:
    """Strings, stored as they are."""

    name = "text"

    def encodable(self, value: Any) -> bool:
        return isinstance(value, str)

    def encode(self, value: Any) -> JSONValue:
        return value if isinstance(value, str) else str(value)

    def decode(self, data: JSONValue) -> Any:
        return data if isinstance(data, str) else str(data)


class JsonEncoder:
    """JSON values, plus the types users expect to glue as numbers and lists.

    numpy scalars become Python numbers, numpy arrays and tuples become lists, dates and times
    become ISO 8601 strings. A value that plain JSON cannot carry to scrapbook 0.5 (``None``,
    a string, NaN or infinities anywhere inside) is stored as its JSON text, which both readers
    turn back into the value: that is how NaN stays a float instead of becoming ``"nan"``.
    """

    name = "json"

    def encodable(self, value: Any) -> bool:
        try:
            _plain(value)
        except TypeError:
            return False
        return True

    def encode(self, value: Any) -> JSONValue:
        # A string given to the JSON encoder is JSON text, as in scrapbook: parse it.
        plain = _parsed(value) if isinstance(value, str) else _plain(value)
        if plain is None or isinstance(plain, str) or not _all_finite(plain):
            return json.dumps(plain)
        return plain

    def decode(self, data: JSONValue) -> Any:
        if isinstance(data, str):
            try:
                return json.loads(data)
            except json.JSONDecodeError:
                return data  # a plain string glued by scrapbook with encoder="json"
            # Other ValueErrors (a number of more than 4,300 digits) are JSON this reader
            # refuses: the scrap fails alone rather than coming back as its text.
        return data


def _parsed(text: str) -> JSONValue:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(
            f"the string is not JSON text ({exc.msg} at line {exc.lineno}, column {exc.colno}); "
            'glue it with encoder="text" to store it as a string'
        ) from None


def _plain(value: Any) -> JSONValue:
    """Converts ``value`` into plain JSON types or raises TypeError."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    if isinstance(value, dict):
        return {_key(key): _plain(item) for key, item in value.items()}
    if isinstance(value, (dt.datetime, dt.date, dt.time)):
        return value.isoformat()
    numpy = _module("numpy")
    if numpy is not None:
        if isinstance(value, numpy.ndarray) and value.dtype.kind in "biufUS":
            return _plain(value.tolist())
        if isinstance(value, numpy.datetime64):
            return str(value)
        if isinstance(value, numpy.generic) and value.dtype.kind in "biufUS":
            return value.item()
    raise TypeError(f"{type(value)} is not JSON")


def _key(key: Any) -> str:
    """A dict key as :func:`json.dumps` writes it (``1`` → ``"1"``, ``None`` → ``"null"``), as
    scrapbook's glue stored them; numpy scalars count as the numbers they hold."""
    if isinstance(key, str):
        return key
    numpy = _module("numpy")
    if numpy is not None and isinstance(key, numpy.generic) and key.dtype.kind in "biuf":
        key = key.item()
    if key is None or isinstance(key, (bool, int, float)):
        return json.dumps(key)
    raise TypeError(f"JSON object keys must be str, int, float, bool or None, not {type(key)}")


def _all_finite(value: JSONValue) -> bool:
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, list):
        return all(_all_finite(item) for item in value)
    if isinstance(value, dict):
        return all(_all_finite(item) for item in value.values())
    return True


class PandasEncoder:
    """DataFrames (and Series, as one-column frames) as base64 Parquet, like scrapbook."""

    name = "pandas"

    def encodable(self, value: Any) -> bool:
        pandas = _module("pandas")
        return pandas is not None and isinstance(value, (pandas.DataFrame, pandas.Series))

    def encode(self, value: Any) -> JSONValue:
        return base64.b64encode(_parquet.to_parquet(value)).decode("ascii")

    def decode(self, data: JSONValue) -> Any:
        if not isinstance(data, str):
            raise TypeError(f"expected a base64 string, got {type(data).__name__}")
        return _parquet.from_parquet(base64.b64decode(data, validate=True))


class DisplayEncoder:
    """Values kept only as what they display (a figure's PNG, an HTML table); no data."""

    name = "display"

    def encodable(self, value: Any) -> bool:
        # IPython's display objects only, as in scrapbook: anything else (a matplotlib figure)
        # must be asked for with encoder="display", or glue would silently keep no data.
        display = _module("IPython.display")
        return display is not None and isinstance(value, display.DisplayObject)

    def encode(self, value: Any) -> JSONValue:
        return None

    def decode(self, data: JSONValue) -> Any:
        return None


@runtime_checkable
class ScrapbookStyleEncoder(Protocol):
    """An encoder written for scrapbook 0.5: ``name()`` is a method, and ``encode`` and
    ``decode`` take a scrap and return it with its data replaced (``scrap._replace(data=...)``).
    The registry accepts these as they are and adapts them (see :class:`ScrapbookEncoderAdapter`).
    """

    def name(self) -> str: ...

    def encodable(self, data: Any) -> bool: ...

    def encode(self, scrap: Any) -> Any: ...

    def decode(self, scrap: Any) -> Any: ...


_AnyEncoder = TypeVar("_AnyEncoder", bound="Encoder | ScrapbookStyleEncoder")


class ScrapbookEncoderAdapter:
    """A scrapbook-style encoder seen through this package's :class:`Encoder` protocol.

    The scrap handed to it has an empty name: encoders see values, not the names they are
    glued under.
    """

    def __init__(self, wrapped: ScrapbookStyleEncoder) -> None:
        self.wrapped = wrapped
        self.name: str = wrapped.name()

    def encodable(self, value: Any) -> bool:
        return bool(self.wrapped.encodable(value))

    def encode(self, value: Any) -> JSONValue:
        return self._data_of(self.wrapped.encode(self._scrap(value)), "encode")

    def decode(self, data: JSONValue) -> Any:
        return self._data_of(self.wrapped.decode(self._scrap(data)), "decode")

    def _scrap(self, data: Any) -> Any:
        from ._scraps import Scrap  # _scraps imports this module

        return Scrap("", data, self.name)

    def _data_of(self, result: Any, method: str) -> Any:
        if not hasattr(result, "data"):
            raise TypeError(
                f"scrapbook-style encoder {self.name!r}: {method}() must return a Scrap "
                f"(scrap._replace(data=...)), not {type(result).__name__}"
            )
        return result.data

    def __repr__(self) -> str:
        return f"ScrapbookEncoderAdapter({self.wrapped!r})"


def _as_encoder(candidate: Encoder | ScrapbookStyleEncoder) -> Encoder:
    """``candidate`` as an :class:`Encoder`: as it is, or adapted when written for scrapbook."""
    name = getattr(candidate, "name", None)
    if isinstance(candidate, Encoder) and isinstance(name, str):
        return candidate
    if callable(name) and isinstance(candidate, ScrapbookStyleEncoder):
        try:
            adapted = ScrapbookEncoderAdapter(candidate)
        except Exception as exc:
            raise EncoderError(f"{candidate!r}.name() failed: {type(exc).__name__}: {exc}") from exc
        if isinstance(adapted.name, str):
            return adapted
    raise EncoderError(
        f"{candidate!r} is not an encoder: it needs a str `name` (or, as in scrapbook, a "
        "`name()` method) and encodable/encode/decode methods"
    )


class EncoderRegistry:
    """Encoders by name. The most recently registered encoder is tried first for a value,
    so a third-party encoder can take over a type a built-in would otherwise claim."""

    def __init__(self, builtins: tuple[Encoder, ...] = ()) -> None:
        self._encoders: dict[str, Encoder] = {}
        self._builtins = frozenset(encoder.name for encoder in builtins)
        self._entry_points_loaded = False
        for encoder in builtins:
            self.register(encoder)

    def register(self, encoder: _AnyEncoder, *, replace: bool = False) -> _AnyEncoder:
        """Adds ``encoder`` (this package's protocol, or a scrapbook 0.5 encoder, as
        ``sb.encoders.registry.register(MyEncoder())`` in scrapbook's documentation); returns
        it unchanged."""
        adapted = _as_encoder(encoder)
        if adapted.name in self._encoders and not replace:
            raise EncoderError(
                f"An encoder named {adapted.name!r} is already registered; "
                "pass replace=True to replace it"
            )
        self._encoders.pop(adapted.name, None)
        self._encoders[adapted.name] = adapted
        return encoder

    def unregister(self, name: str) -> Encoder:
        try:
            return self._encoders.pop(name)
        except KeyError:
            raise UsageError(
                f"No encoder named {name!r} to unregister; registered: {', '.join(self)}"
            ) from None

    def deregister(self, encoder: str | Encoder | ScrapbookStyleEncoder) -> Encoder:
        """scrapbook's name for :meth:`unregister`: takes the encoder or its name."""
        return self.unregister(encoder if isinstance(encoder, str) else _as_encoder(encoder).name)

    def lookup(self, name: str) -> Encoder | None:
        encoder = self._encoders.get(name)
        if encoder is None and not self._entry_points_loaded:
            self.load_entry_points()
            encoder = self._encoders.get(name)
        return encoder

    def find(self, value: Any, name: str | None = None) -> Encoder:
        """The encoder for ``value``: third-party ones first, newest first, then built-ins.

        ``name``, the scrap's, is only there to be named by the error when none fits."""
        self.load_entry_points()
        encoders = list(self._encoders.values())
        added = [enc for enc in reversed(encoders) if enc.name not in self._builtins]
        builtin = [enc for enc in encoders if enc.name in self._builtins]
        for encoder in (*added, *builtin):
            if encoder.encodable(value):
                return encoder
        raise NoEncoderError.from_value(value, name)

    def load_entry_points(self) -> None:
        """Registers the encoders other packages declare; runs once per process."""
        if self._entry_points_loaded:
            return
        self._entry_points_loaded = True
        from importlib.metadata import entry_points

        for entry_point in entry_points(group=ENTRY_POINT_GROUP):
            loaded = entry_point.load()
            encoder = _as_encoder(loaded() if isinstance(loaded, type) else loaded)
            if encoder.name not in self._encoders:
                self.register(encoder)

    def __iter__(self) -> Iterator[str]:
        return iter(self._encoders)

    def __contains__(self, name: object) -> bool:
        return name in self._encoders

    def __len__(self) -> int:
        return len(self._encoders)


registry = EncoderRegistry((TextEncoder(), JsonEncoder(), PandasEncoder(), DisplayEncoder()))


def register_encoder(encoder: _AnyEncoder, *, replace: bool = False) -> _AnyEncoder:
    """Registers ``encoder`` in the process-wide registry."""
    return registry.register(encoder, replace=replace)


def unregister_encoder(name: str) -> Encoder:
    """Removes the encoder called ``name`` from the process-wide registry."""
    return registry.unregister(name)


def lookup_encoder(name: str) -> Encoder | None:
    """The registered encoder called ``name``, or None."""
    return registry.lookup(name)
