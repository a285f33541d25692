"""``python -m bastion``."""

from bastion._internal.cli import run

run()
