"""Unwanted prisoner contact pages: the public form, the case handlers' casework and statistics."""
