"""feederopt.problems."""
