"""Assistant adapters: the OpenAI assistant, its offline twin, caching, budgets and fallback."""
