"""The package version, in one place (read by hatchling and re-exported as ``__version__``)."""

__version__ = "0.1.0"
