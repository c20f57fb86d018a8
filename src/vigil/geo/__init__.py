"""Geometry: local metric projections, zone parsing and the vectorised zone kernels."""
