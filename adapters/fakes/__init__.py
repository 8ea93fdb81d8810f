"""Deterministic local fakes of outside systems (Graph API, OpenAI) for tests and demos."""
