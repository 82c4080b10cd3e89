from django.apps import AppConfig


class DemoConfig(AppConfig):
    """The demo data set behind `make run` (`manage.py seed_demo`). No models: it only loads data
    into the other apps through their services, and no other app imports it."""

    name = "demo"
    label = "demo"
    verbose_name = "Demo"
