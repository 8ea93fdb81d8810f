"""Package events."""
