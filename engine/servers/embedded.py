"""The lab's own uvicorn, on the lab's event loop (``engine.server.EmbeddedServer``)."""

INTERFACE = "asgi"
