"""Celery wrappers of the exception detectors (beat schedule in oms/celery.py)."""

from celery import shared_task

from ops.services.detectors import run_detectors


@shared_task
def detect_exceptions_task() -> dict[str, int]:
    return run_detectors()
