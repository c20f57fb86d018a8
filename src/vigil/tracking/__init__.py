"""Fixes: quality, the trail store, and trail queries."""
