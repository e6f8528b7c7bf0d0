"""``python -m feederopt.cli``."""

from feederopt.cli import main

main()
