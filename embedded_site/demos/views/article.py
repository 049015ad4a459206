"""article group."""
