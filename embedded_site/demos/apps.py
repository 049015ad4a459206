from django.apps import AppConfig


class DemosConfig(AppConfig):
    name = "embedded_site.demos"
    label = "demos"
    verbose_name = "Async demos"
