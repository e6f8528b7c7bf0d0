"""feederopt.cases."""
