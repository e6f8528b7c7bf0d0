"""feederopt.formulations."""
