"""Loa: the communications hub of a trade union."""

__version__ = "0.1.0"
