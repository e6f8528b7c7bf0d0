"""feederopt.validation."""
