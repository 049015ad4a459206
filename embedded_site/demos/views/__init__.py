"""Demo views, one module per catalogue group."""
