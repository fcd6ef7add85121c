"""The kernel side: ``glue`` a value into the running cell's outputs, and re-emit scraps.

This module is imported inside user kernels, so it stays light: IPython is already loaded
there, and nothing heavier is imported until a value needs it.
"""

from __future__ import annotations

import json
import sys
import warnings
from collections.abc import Mapping
from typing import Any

from ._errors import EncoderError, NoKernelWarning, UsageError
from ._scraps import SCRAP_TAG, Scrap, data_output, display_output_metadata, encoder_named
from .encoders import Encoder, JSONValue, registry

__all__ = ["DisplayOption", "glue", "reglue_scrap", "show", "show_markdown"]

DisplayOption = bool | list[str] | tuple[str, ...] | Mapping[str, Any] | None

_PNG = "image/png"


def glue(name: str, data: Any, encoder: str | None = None, display: DisplayOption = None) -> None:
    """Stores ``data`` under ``name`` in the current cell's outputs.

    ``encoder`` names the encoder (default: the first registered one that accepts the value).
    ``display=True`` also shows the value with IPython's formatters, and the scrap keeps both;
    a list or tuple is passed to the formatters as ``include``, a dict as keyword arguments.
    ``encoder="display"`` keeps only what is shown (for a matplotlib figure, its PNG).
    A value no encoder accepts keeps only its display when ``display`` is given, as scrapbook
    does; otherwise it is a :class:`NoEncoderError`.
    """
    if not isinstance(name, str) or not name:
        raise UsageError(f"A scrap name must be a non-empty string, not {name!r}")
    chosen = _choose_encoder(name, data, encoder, display)
    if display is None:
        display = chosen.name == "display"
    shell = _shell()
    outputs: list[tuple[dict[str, Any], dict[str, Any]]] = []
    if chosen.name != "display":
        # Encoded even with no shell to store it in: a script meets the errors a kernel would.
        outputs.append(data_output(name, _encode(name, chosen, data), chosen.name))
    if display and shell is not None:
        outputs.append(_display_bundle(shell, name, data, display))
    _publish(shell, outputs)


def reglue_scrap(scrap: Scrap, new_name: str | None = None, *, unattached: bool = False) -> None:
    """Re-emits ``scrap`` (its data, its display, or both) into the current cell's outputs.

    A scrap read from a notebook is re-emitted with the payload it was stored with; a scrap
    built from a value is encoded. ``unattached`` shows the display without tagging it as a
    scrap, so reading the new notebook does not find it again.
    """
    name = new_name or scrap.name
    outputs: list[tuple[dict[str, Any], dict[str, Any]]] = []
    if scrap.encoder not in (None, "display"):
        if scrap.stored:
            payload = scrap.payload
        else:
            payload = _encode(name, encoder_named(scrap.encoder, name), scrap.data)
        data, metadata = data_output(name, payload, scrap.encoder)
        if not unattached:
            outputs.append((data, metadata))
    if scrap.display is not None:
        bundle = dict(scrap.display.get("data", {}))
        metadata = display_output_metadata(name, scrap.display.get("metadata", {}))
        if unattached:
            del metadata[SCRAP_TAG]
        outputs.append((bundle, metadata))
    _publish(_shell(), outputs)


def _choose_encoder(name: str, data: Any, encoder: str | None, display: DisplayOption) -> Encoder:
    if encoder is not None:
        return encoder_named(encoder, name)
    try:
        return registry.find(data, name)
    except NotImplementedError:
        # Unencodable but shown: keep what it displays, as scrapbook does. A falsy ``display``
        # (False, []) raises, where scrapbook would silently store nothing at all.
        if display:
            fallback = registry.lookup("display")
            if fallback is not None:
                return fallback
        raise


def _encode(name: str, encoder: Encoder, data: Any) -> JSONValue:
    try:
        payload = encoder.encode(data)
        if not isinstance(payload, str):  # a string is always valid JSON, however long
            # The kernel sends outputs as strict JSON: check here, where the error names the scrap.
            json.dumps(payload, allow_nan=False)
    except Exception as exc:
        raise EncoderError(
            f"Scrap {name!r} cannot be encoded with encoder {encoder.name!r}: "
            f"{type(exc).__name__}: {exc}",
            name=name,
            encoder=encoder.name,
        ) from exc
    return payload


def _shell() -> Any | None:
    """The running IPython shell, or None; never creates one.

    IPython's own helpers (``format_display_data``, ``display``) make a shell when there is
    none, after which every later glue in the process would "find" it and behave differently.
    """
    module = sys.modules.get("IPython.core.interactiveshell")  # no shell without its module
    if module is None or not module.InteractiveShell.initialized():
        return None
    return module.InteractiveShell.instance()


def _display_bundle(
    shell: Any, name: str, data: Any, display: DisplayOption
) -> tuple[dict[str, Any], dict[str, Any]]:
    options: dict[str, Any] = {}
    if isinstance(display, (list, tuple)):
        options = {"include": list(display)}
    elif isinstance(display, Mapping):
        options = dict(display)
    bundle, metadata = shell.display_formatter.format(data, **options)
    bundle = dict(bundle)
    if _PNG not in bundle and _wants(_PNG, **options):
        png = _figure_png(data)
        if png is not None:
            bundle[_PNG] = png
    return bundle, display_output_metadata(name, metadata)


def _wants(mime: str, include: Any = None, exclude: Any = None, **_: Any) -> bool:
    return (include is None or mime in include) and (exclude is None or mime not in exclude)


def _figure_png(value: Any) -> str | None:
    """A matplotlib figure's PNG, base64, whatever backend is in use, or None.

    IPython's formatters only draw figures when the inline backend registered its formatter;
    under Agg (or any backend chosen by the notebook) a figure would keep only its text.
    """
    figure = sys.modules.get("matplotlib.figure")  # a Figure implies matplotlib is imported
    if figure is None or not isinstance(value, figure.Figure):
        return None
    from IPython.core.pylabtools import print_figure

    png: str | None = print_figure(value, "png", base64=True)  # type: ignore[no-untyped-call]
    return png  # None for a figure with nothing drawn, as the inline backend does


def _publish(shell: Any | None, outputs: list[tuple[dict[str, Any], dict[str, Any]]]) -> None:
    if shell is None:
        warnings.warn(
            "glue() needs a Jupyter kernel or IPython shell to store scraps in; nothing was stored",
            NoKernelWarning,
            stacklevel=3,
        )
        return
    for data, metadata in outputs:
        show(data, metadata=metadata, raw=True)


def show(value: Any, *, metadata: Mapping[str, Any] | None = None, raw: bool = False) -> None:
    """IPython's ``display``, typed."""
    from IPython.display import display

    display(value, metadata=metadata, raw=raw)  # type: ignore[no-untyped-call]


def show_markdown(text: str) -> None:
    """Displays ``text`` as markdown."""
    from IPython.display import Markdown

    show(Markdown(text))  # type: ignore[no-untyped-call]
