"""The monitoring engine: compiled conditions, kernels, state machines, timers, replay."""
