"""streaming group."""
