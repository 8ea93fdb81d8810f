"""The reactor runtime: subscriptions that turn facts into decisions and decisions into effects."""
