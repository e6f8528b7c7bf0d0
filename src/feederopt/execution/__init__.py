"""feederopt.execution."""
