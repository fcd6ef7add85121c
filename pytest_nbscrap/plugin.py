"""The pytest plugin (entry point ``pytest11: nbscrap``)."""

from __future__ import annotations
