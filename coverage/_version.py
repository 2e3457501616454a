"""The package version, in one place (packaging, run histories and cache keys read it)."""

__version__ = "0.1.0"
