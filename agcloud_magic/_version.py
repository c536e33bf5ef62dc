"""The package version (one place, read by the client's User-Agent too)."""

__version__ = "0.1.0"
