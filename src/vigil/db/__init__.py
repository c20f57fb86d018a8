"""Storage: engine, metadata, unit of work and migrations."""
