"""The advisory layer: OSV records, an offline store, and an exact matcher."""
