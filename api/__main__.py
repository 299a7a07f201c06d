"""``python -m api`` is the ``tessera`` command."""

from api.cli import main

main()
