"""The Qt window of the Django Async Explorer: a view onto engine run records, never their owner."""
