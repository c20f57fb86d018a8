"""Vigil: protecting victims of domestic abuse by watching the people who harmed them."""

__version__ = "0.1.0"
