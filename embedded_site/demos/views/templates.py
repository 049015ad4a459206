"""templates group."""
