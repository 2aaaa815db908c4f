"""``python -m moor7``: the same as the ``moor7`` command."""

from ._cli import run

run()
