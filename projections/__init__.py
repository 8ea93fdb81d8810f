"""Package projections."""
