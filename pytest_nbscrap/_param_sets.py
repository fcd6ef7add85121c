"""Parameter sets: from markers and notebook metadata to dicts, ids and file-name suffixes."""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

from ._errors import UsageError
from ._text import escape_controls, shorten

__all__ = [
    "ParamSet",
    "freeze",
    "item_names",
    "nb_param_sets",
    "param_id",
    "param_ids",
    "param_sets",
    "safe_name",
    "short_hash",
]

ParamSet = dict[str, Any]


def param_sets(args: Sequence[Any], kwargs: Mapping[str, Any], *, where: str) -> list[ParamSet]:
    """``nb_params(*sets, **params)``: keyword params are merged into each positional set."""
    for index, item in enumerate(args):
        if not isinstance(item, Mapping):
            raise UsageError(
                f"{where}: nb_params positional argument {index + 1} must be a dict of "
                f"parameters, not {type(item).__name__}; write nb_params(name=value) or "
                "nb_params({'name': value}, {'name': other})"
            )
    sets = [dict(item) for item in args] or [{}]
    return [{**item, **kwargs} for item in sets]


def nb_param_sets(node: Any) -> list[ParamSet]:
    """The parameter sets of a test's or item's closest ``nb_params`` marker (one empty set
    when it has none): a test or item not parametrized by them runs with the first."""
    marker = node.get_closest_marker("nb_params")
    if marker is None:
        return [{}]
    return param_sets(marker.args, marker.kwargs, where=node.nodeid)


def metadata_param_sets(value: Any, *, where: str) -> list[ParamSet]:
    """``metadata.nbscrap.params``: a dict, or a list of dicts (one run each)."""
    if isinstance(value, Mapping):
        return [dict(value)]
    if isinstance(value, list) and value and all(isinstance(item, Mapping) for item in value):
        return [dict(item) for item in value]
    raise UsageError(
        f"{where}: metadata.nbscrap.params must be a dict or a non-empty list of dicts"
    )


def param_id(params: Mapping[str, Any]) -> str:
    """A readable test id: ``symbol=AAA,threshold=0.1``.

    Control characters are escaped (``\\x1b``), as pytest escapes its own ids: parameters may
    come from a notebook's metadata, and test ids are printed to the terminal.
    """
    text = ",".join(f"{key}={_short(value)}" for key, value in params.items())
    return escape_controls(text)


def param_ids(sets: Sequence[Mapping[str, Any]]) -> list[str]:
    """:func:`param_id` of each set, never two alike.

    Readable ids are shortened and flattened (``s=1`` for both ``1`` and ``"1"``), so an id two
    different sets would share gets a short hash of its set; one that equal sets share gets
    its position as well.
    """
    ids = [param_id(params) for params in sets]
    shared = Counter(ids)
    ids = [
        f"{text}-{short_hash(freeze(params))}" if shared[text] > 1 else text
        for text, params in zip(ids, sets, strict=True)
    ]
    shared = Counter(ids)
    return [f"{text}-{index}" if shared[text] > 1 else text for index, text in enumerate(ids)]


def item_names(stem: str, sets: Sequence[Mapping[str, Any]]) -> list[str]:
    """The names of a notebook's items, one per set: ``stem[id]``, as pytest names a
    parametrized test, or the bare stem for a notebook that runs once without parameters."""
    if len(sets) == 1 and not sets[0]:
        return [stem]
    return [f"{stem}[{id_}]" for id_ in param_ids(sets)]


def _short(value: Any) -> str:
    text = value if isinstance(value, str) else _dumps(value) or "<not writable>"
    return shorten(text, 30)


def freeze(params: Mapping[str, Any]) -> str:
    """A canonical, hashable form of a parameter set (the same set always gives the same key).

    A set JSON cannot write (an int over 4,300 digits, nesting past the recursion limit) is
    keyed by its identity: it is never shared, and its run fails as its ParameterError.
    """
    return _dumps(params, sort_keys=True) or f"<not writable {id(params):x}>"


def _dumps(value: Any, *, sort_keys: bool = False) -> str | None:
    """JSON text of ``value`` (others by repr), or None where JSON cannot write it."""
    try:
        return json.dumps(value, sort_keys=sort_keys, default=repr)
    except (ValueError, RecursionError):
        return None


_UNSAFE = re.compile(r"[^A-Za-z0-9._=,+\[\]-]+")


def safe_name(text: str, *, limit: int = 80) -> str:
    """``text`` made safe as one file-name component: no separators, no ``..``, bounded length.

    Names that had to be changed or shortened get a short hash so two never collide.
    """
    cleaned = _UNSAFE.sub("_", text).strip("._") or "notebook"
    cleaned = cleaned.replace("..", "_")
    if cleaned == text and len(cleaned) <= limit:
        return cleaned
    return f"{cleaned[:limit]}-{short_hash(text)}"


def short_hash(text: str) -> str:
    """Eight hex digits naming ``text``: what keeps shortened names apart."""
    # surrogatepass: a lone surrogate (from a parameter) still names a file, and fails later,
    # as that parameter's own error.
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:8]
