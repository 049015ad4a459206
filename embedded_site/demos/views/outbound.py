"""outbound group."""
