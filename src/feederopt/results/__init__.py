"""feederopt.results."""
