"""feederopt.report."""
