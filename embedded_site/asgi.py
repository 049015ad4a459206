"""ASGI entry point, for serving the site with a stand-alone server (e.g. ``uvicorn embedded_site.asgi:application``)."""

from .bootstrap import asgi_application, prepare_database

prepare_database()
application = asgi_application()
