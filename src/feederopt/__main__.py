"""``python -m feederopt``: the ``feederopt`` command (:mod:`feederopt.cli`)."""

from feederopt.cli import main

main()
