"""The read side: projection tables and the runner that keeps them current."""
