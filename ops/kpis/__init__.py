"""KPIs for the ops dashboard: SQL-aggregated selectors (selectors.py), guarded optional sources
(sources.py: exception cases, webhook deliveries, outbox) and the admin dashboard callback
(dashboard.py). See docs/observability.md."""
