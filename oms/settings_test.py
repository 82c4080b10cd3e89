"""Test overrides: fast hashing, in-memory mail. The database and broker come from the
environment that `make test` sets (PostgreSQL and Redis on 127.0.0.1)."""

from oms.settings import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
# Unit tests run Celery tasks inline; tests that need a real worker start one explicitly.
CELERY_TASK_ALWAYS_EAGER = True
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
LOGGING["root"]["level"] = "WARNING"  # noqa: F405
WHITENOISE_AUTOREFRESH = True
# The test client and live server speak plain http: HTTPS-only is the production profile's,
# proved by tests/security/test_deploy_settings.py in a subprocess.
SECURE_SSL_REDIRECT = False
SECURE_HSTS_SECONDS = 0
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False
# /metrics tests set the token requirement themselves (tests/observability).
OMS_METRICS_REQUIRE_TOKEN = False
# Tests sign in with client.login()/force_login() (no request for django-axes to watch): the
# lockout is off, and tests/admin/test_login_lockout.py turns it on where it is under test.
AXES_ENABLED = False
# Throttle counters in memory per process: parallel test workers must not share them in Redis.
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
