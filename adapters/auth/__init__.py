"""Access to the read API: bearer tokens stored hashed, roles, and the dealer binding."""
