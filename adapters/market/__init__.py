"""The market side: market-order adapters, the live catalogue and the tables of issue 6."""
