"""The Django project the explorer serves in-process: settings, demo app, tracing. Qt-free."""
