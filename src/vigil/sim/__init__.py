"""Simulated pilot: demo data, wearers and movement for the demo and the benchmarks."""
