"""Observability: Prometheus metrics (/metrics), liveness and readiness (/healthz, /readyz),
and Celery task timing. See docs/observability.md."""
