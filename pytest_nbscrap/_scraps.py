"""Scrap and Scraps, and the wire format that stores them in notebook outputs.

The wire format is scrapbook 0.5's, and it lives here and only here. A data scrap is one
``display_data`` output whose data key is ``application/scrapbook.scrap.<encoder>+json`` and
whose value is ``{"name", "data", "encoder", "version": 1}``; its output metadata is
``{"scrapbook": {"name": N, "data": true, "display": false}}``. A display scrap is an ordinary
mimebundle with ``{"scrapbook": {"name": N, "data": false, "display": true}}``. Legacy papermill
``application/papermill.record+json`` outputs are read too.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ._errors import ScrapDecodeError, ScrapNotFoundError, UnknownEncoderError
from .encoders import Encoder, JSONValue, registry

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "GLUE_MIME",
    "GLUE_PREFIX",
    "PAYLOAD_VERSION",
    "RECORD_MIME",
    "RECORD_PREFIX",
    "SCRAP_TAG",
    "Scrap",
    "Scraps",
    "data_output",
    "display_output_metadata",
    "encoder_named",
    "scraps_from_cells",
    "values_equal",
]

GLUE_PREFIX = "application/scrapbook.scrap"
#: A data scrap's data key, as :func:`data_output` writes it; its group ``encoder`` names the
#: encoder. Reading only asks for the prefix, as scrapbook does.
GLUE_MIME = re.compile(rf"{re.escape(GLUE_PREFIX)}\.(?P<encoder>[^+]+)\+json")
RECORD_PREFIX = "application/papermill.record"
#: The data key of papermill 1.x's ``record`` output (one value, by name).
RECORD_MIME = f"{RECORD_PREFIX}+json"
#: The output-metadata key that tags an output as a scrap's (``{"name", "data", "display"}``).
SCRAP_TAG = "scrapbook"
PAYLOAD_VERSION = 1


_UNDECODED: Any = object()


class _Encoded:
    """A scrap's payload as stored, and its value once ``Scrap.data`` has decoded it.

    The payload is kept after decoding: re-emitting a scrap read from a notebook (reglue) sends
    what was stored, never a re-encoding of the value, which need not give it back (a string
    is JSON text to the json encoder).
    """

    __slots__ = ("payload", "value")

    def __init__(self, payload: JSONValue) -> None:
        self.payload = payload
        self.value = _UNDECODED

    def __reduce__(self) -> tuple[Any, ...]:
        return (_Encoded, (self.payload,))


class _LazyData:
    """The ``data`` field of :class:`Scrap`: decodes an ``_Encoded`` payload once, on access.

    A descriptor lets ``Scrap`` stay a frozen dataclass with an ordinary ``data`` field while
    reading a notebook decodes nothing until a value is asked for.
    """

    def __set_name__(self, owner: type, name: str) -> None:
        self._slot = f"_{name}"

    def __get__(self, scrap: Scrap | None, owner: type | None = None) -> Any:
        if scrap is None:
            return None  # the dataclass default
        value = scrap.__dict__[self._slot]
        if not isinstance(value, _Encoded):
            return value
        if value.value is _UNDECODED:
            value.value = _decode(scrap.name, scrap.encoder, value.payload)
        return value.value

    def __set__(self, scrap: Scrap, value: Any) -> None:
        scrap.__dict__[self._slot] = value


def encoder_named(encoder_name: str | None, scrap_name: str) -> Encoder:
    """The registered encoder ``encoder_name``, which scrap ``scrap_name`` asks for; else an
    :class:`UnknownEncoderError` naming both (and the encoders there are)."""
    encoder = registry.lookup(encoder_name or "")
    if encoder is None:
        raise UnknownEncoderError.from_scrap(scrap_name, str(encoder_name), registry)
    return encoder


def _decode(name: str, encoder_name: str | None, payload: JSONValue) -> Any:
    encoder = encoder_named(encoder_name, name)
    try:
        return encoder.decode(payload)
    except Exception as exc:
        raise ScrapDecodeError.from_exception(name, str(encoder_name), exc) from exc


@dataclass(frozen=True, eq=False, repr=False)
class Scrap:
    """One named value glued into a notebook, and/or what it displayed.

    ``display`` is the display output itself (``{"output_type", "data", "metadata"}``), as in
    scrapbook. Reading a notebook makes scraps whose ``data`` decodes on first access, so a
    corrupt scrap fails alone, with an error naming it and its encoder.
    """

    name: str
    data: Any = _LazyData()
    encoder: str | None = None
    display: Mapping[str, Any] | None = None

    @classmethod
    def encoded(
        cls, name: str, payload: JSONValue, encoder: str, display: Mapping[str, Any] | None = None
    ) -> Scrap:
        """A scrap as read from a notebook, its payload decoded when ``data`` is first read."""
        return cls(name, _Encoded(payload), encoder, display)

    @property
    def decoded(self) -> bool:
        """False until ``data`` has been decoded (always True for scraps built from values)."""
        raw = self.__dict__["_data"]
        return not isinstance(raw, _Encoded) or raw.value is not _UNDECODED

    @property
    def stored(self) -> bool:
        """True for a scrap read from a notebook: it has a :attr:`payload` as stored."""
        return isinstance(self.__dict__["_data"], _Encoded)

    @property
    def payload(self) -> JSONValue:
        """The stored JSON form of the data, decoded or not (None for a built scrap)."""
        raw = self.__dict__["_data"]
        return raw.payload if isinstance(raw, _Encoded) else None

    def replace(self, **changes: Any) -> Scrap:
        """A copy with some fields changed; an undecoded payload stays undecoded."""
        fields = {
            "name": self.name,
            "data": self.__dict__["_data"],
            "encoder": self.encoder,
            "display": self.display,
        }
        fields.update(changes)
        return Scrap(**fields)

    _replace = replace  # scrapbook's Scrap was a namedtuple

    def __iter__(self) -> Iterator[Any]:
        """Unpacks like scrapbook's namedtuple: ``name, data, encoder, display = scrap``."""
        return iter((self.name, self.data, self.encoder, self.display))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Scrap):
            return NotImplemented
        return (
            self.name == other.name
            and self.encoder == other.encoder
            and self.display == other.display
            and values_equal(self.data, other.data)
        )

    __hash__ = None  # type: ignore[assignment]  # data may be a DataFrame: not hashable

    def __repr__(self) -> str:
        try:
            data = repr(self.data)
        except Exception as exc:  # a corrupt scrap must still print
            data = f"<undecodable: {exc}>"
        return (
            f"Scrap(name={self.name!r}, data={data}, encoder={self.encoder!r}, "
            f"display={self.display!r})"
        )


def values_equal(left: Any, right: Any) -> bool:
    """Equality that treats NaN as equal to NaN and compares frames by content."""
    if hasattr(left, "equals") and type(left) is type(right):
        return bool(left.equals(right))
    if isinstance(left, float) and isinstance(right, float):
        return left == right or (math.isnan(left) and math.isnan(right))
    if isinstance(left, list) and isinstance(right, list):
        return len(left) == len(right) and all(map(values_equal, left, right))
    if isinstance(left, dict) and isinstance(right, dict):
        return left.keys() == right.keys() and all(values_equal(left[k], right[k]) for k in left)
    return bool(left == right)


class Scraps(dict[str, Scrap]):
    """Scraps by name, in the order they were glued. A missing name lists the names present."""

    def __missing__(self, name: str) -> Scrap:
        raise ScrapNotFoundError.from_names(name, self)

    def __repr__(self) -> str:
        return f"Scraps({list(self.items())!r})"

    @property
    def data_scraps(self) -> Scraps:
        return Scraps((name, scrap) for name, scrap in self.items() if scrap.encoder != "display")

    @property
    def display_scraps(self) -> Scraps:
        return Scraps((name, scrap) for name, scrap in self.items() if scrap.display is not None)

    @property
    def data_dict(self) -> dict[str, Any]:
        """Name → decoded data, for scraps that hold data."""
        return {name: scrap.data for name, scrap in self.data_scraps.items()}

    @property
    def display_dict(self) -> dict[str, Mapping[str, Any] | None]:
        """Name → display output, for scraps that displayed something."""
        return {name: scrap.display for name, scrap in self.display_scraps.items()}

    @property
    def dataframe(self) -> pd.DataFrame:
        """One row per scrap: name, data, encoder, display."""
        import pandas as pd

        rows = [[s.name, s.data, s.encoder, s.display] for s in self.values()]
        frame: pd.DataFrame = pd.DataFrame(rows, columns=["name", "data", "encoder", "display"])
        return frame


# --- writing ----------------------------------------------------------------------------------


def data_output(
    name: str, payload: JSONValue, encoder: str
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The (data, metadata) of the display output that stores a data scrap."""
    data = {
        f"{GLUE_PREFIX}.{encoder}+json": {
            "name": name,
            "data": payload,
            "encoder": encoder,
            "version": PAYLOAD_VERSION,
        }
    }
    return data, {SCRAP_TAG: {"name": name, "data": True, "display": False}}


def display_output_metadata(name: str, metadata: Mapping[str, Any]) -> dict[str, Any]:
    """Display metadata tagged as the display of scrap ``name`` (other scrap tags dropped)."""
    cleaned = {key: val for key, val in metadata.items() if key not in (SCRAP_TAG, "papermill")}
    cleaned[SCRAP_TAG] = {"name": name, "data": False, "display": True}
    return cleaned


# --- reading ----------------------------------------------------------------------------------


def scraps_from_cells(cells: Iterable[Mapping[str, Any]]) -> Scraps:
    """Every scrap glued in ``cells``; a later glue of a name replaces an earlier one.

    A display output that directly follows the data output of the same name, in the same cell,
    belongs to the same ``glue(display=True)`` and is merged into one scrap.
    """
    scraps = Scraps()
    for cell in cells:
        outputs = cell.get("outputs")
        if not isinstance(outputs, list):
            continue
        previous: Scrap | None = None
        for output in outputs:
            if not isinstance(output, Mapping):
                previous = None
                continue
            scrap = _data_scrap(output)
            display_name = _display_name(output)
            if scrap is None and display_name is not None:
                if previous is not None and previous.name == display_name:
                    scrap = previous.replace(display=output)
                else:
                    scrap = Scrap(display_name, None, "display", output)
            if scrap is not None:
                scraps[scrap.name] = scrap
            previous = scrap if scrap is not None and scrap.display is None else None
    return scraps


def _data_scrap(output: Mapping[str, Any]) -> Scrap | None:
    data = output.get("data")
    if not isinstance(data, Mapping):
        return None
    for key, value in data.items():
        if key.startswith(GLUE_PREFIX) and isinstance(value, Mapping):
            name = value.get("name")
            if isinstance(name, str):
                encoder = value.get("encoder")
                if not isinstance(encoder, str):
                    encoder = key[len(GLUE_PREFIX) + 1 :].removesuffix("+json")
                return Scrap.encoded(name, value.get("data"), encoder)
        if key.startswith(RECORD_PREFIX) and isinstance(value, Mapping):
            for name, payload in value.items():  # papermill's record held exactly one value
                return Scrap.encoded(str(name), payload, "json")
    return None


def _display_name(output: Mapping[str, Any]) -> str | None:
    metadata = output.get("metadata")
    if not isinstance(metadata, Mapping):
        return None
    tag = metadata.get(SCRAP_TAG)
    if isinstance(tag, Mapping) and tag.get("display") and isinstance(tag.get("name"), str):
        return str(tag["name"])
    legacy = metadata.get("papermill")
    if isinstance(legacy, Mapping) and isinstance(legacy.get("name"), str):
        return str(legacy["name"])
    return None
