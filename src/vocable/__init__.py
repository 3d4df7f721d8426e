"""Vocable: a self-hosted speech platform on local models."""

__version__ = "0.1.0"
