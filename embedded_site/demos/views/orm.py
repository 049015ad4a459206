"""ORM group."""
