"""feederopt.io."""
