"""Deliberately insecure: each function shows a bug Ruff's S rules catch."""

import subprocess

import yaml


def load_settings(text: str) -> object:
    """Parses untrusted YAML with the full loader (code execution)."""
    return yaml.load(text, Loader=yaml.Loader)


def archive(name: str) -> None:
    """Builds a shell command from a request parameter (command injection)."""
    subprocess.call(f"tar czf /tmp/{name}.tgz /srv/data", shell=True)
