"""Judging package names: look-alikes of popular projects, approved lists."""
