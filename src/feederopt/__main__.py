"""``python -m feederopt``: the ``feederopt`` command (as ``python -m feederopt.cli``)."""

from feederopt.cli import main

main()
