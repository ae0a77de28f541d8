"""Stable, realistic AWS identifiers: the same name always gets the same id."""

from __future__ import annotations

import hashlib


def aws_id(prefix: str, name: str, digits: int = 16) -> str:
    """A realistic, stable resource id: ``eni-0`` and 16 hex digits derived from ``name``."""
    digest = hashlib.sha256(f"{prefix}:{name}".encode()).hexdigest()
    return f"{prefix}-0{digest[:digits]}"


def hex_of(name: str, digits: int) -> str:
    return hashlib.sha256(name.encode()).hexdigest()[:digits]
