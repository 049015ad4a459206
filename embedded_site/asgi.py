"""ASGI entry point for a stand-alone server: ``uvicorn embedded_site.asgi:application``."""

from .bootstrap import asgi_application, prepare_database

prepare_database()
application = asgi_application()
