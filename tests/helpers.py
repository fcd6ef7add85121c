"""Builders for notebook JSON used across the tests."""

from __future__ import annotations

from typing import Any


def code_cell(
    source: str = "", outputs: list[dict[str, Any]] | None = None, **extra: Any
) -> dict[str, Any]:
    cell: dict[str, Any] = {
        "cell_type": "code",
        "source": source,
        "metadata": extra.pop("metadata", {}),
        "outputs": outputs or [],
        "execution_count": extra.pop("execution_count", 1),
    }
    cell.update(extra)
    return cell


def notebook(*cells: dict[str, Any], **metadata: Any) -> dict[str, Any]:
    return {"nbformat": 4, "nbformat_minor": 5, "metadata": metadata, "cells": list(cells)}
