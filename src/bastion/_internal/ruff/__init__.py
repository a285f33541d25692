"""Running Ruff on a tree an attacker may have written: which files, which settings, what bounds.

``tree`` lists the Python files (regular files only, never through a symlink),
``settings`` reads and validates the project's own Ruff settings into explicit
options, and ``child`` runs the ruff binary with resource limits and a timeout.
"""
