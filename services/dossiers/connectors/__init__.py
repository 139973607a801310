"""Connectors to the provincial one-stop system: pull (polling its change feed) and their retry policy."""
