"""Adapters that implement :class:`core.ports.Assistant`."""
