"""feederopt.algorithms."""
