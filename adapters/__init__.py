"""Package adapters."""
