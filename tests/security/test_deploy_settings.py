"""Deployment settings, each run in a fresh interpreter with only the given environment
(docs/security.md): the production profile passes `check --deploy --fail-level WARNING`, and
placeholder secret keys and well-known database passwords refuse to start outside DEBUG."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
STRONG_KEY = secrets.token_urlsafe(64)
# Nothing connects: settings and system checks only. The host need not exist.
STRONG_DB = "postgres://oms:Xq7-not-a-default-pw-91@db.invalid:5432/oms"


def run(*args: str, **environment: str) -> subprocess.CompletedProcess[str]:
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": os.environ.get("HOME", ""),
        "DJANGO_SETTINGS_MODULE": "oms.settings",
        "LOG_LEVEL": "ERROR",
        **environment,
    }
    return subprocess.run(  # noqa: S603 - our own interpreter
        [sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


def load_settings(**environment: str) -> subprocess.CompletedProcess[str]:
    return run("-c", "import django; django.setup()", **environment)


def production(**overrides: str) -> dict[str, str]:
    return {
        "DATABASE_URL": STRONG_DB,
        "DJANGO_SECRET_KEY": STRONG_KEY,
        "DJANGO_ALLOWED_HOSTS": "oms.example.com",
        "OMS_METRICS_BEARER_TOKEN": secrets.token_urlsafe(32),
        "OMS_FIELD_ENCRYPTION_KEY": "uXhGLzdmT9fQ2CzoTt6F6rA3bJUqYsRz5a8E3MfnDk0=",
        **overrides,
    }


def test_check_deploy_is_clean_in_the_production_profile():
    result = run("manage.py", "check", "--deploy", "--fail-level", "WARNING", **production())

    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_check_deploy_warns_without_the_metrics_token():
    result = run(
        "manage.py",
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        **production(OMS_METRICS_BEARER_TOKEN=""),
    )

    assert result.returncode != 0
    assert "oms.W001" in result.stdout + result.stderr


def test_the_production_profile_is_https_only():
    code = (
        "import django; django.setup(); from django.conf import settings as s; "
        "print(s.OMS_PROFILE, s.SECURE_SSL_REDIRECT, s.SECURE_HSTS_SECONDS, "
        "s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SECURE_PROXY_SSL_HEADER)"
    )
    result = run(
        "-c", code, **production(DJANGO_SECURE_PROXY_SSL_HEADER="X-Forwarded-Proto: https")
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.split(maxsplit=5) == [
        "production",
        "True",
        "31536000",
        "True",
        "True",
        "('HTTP_X_FORWARDED_PROTO', 'https')\n",
    ]


@pytest.mark.parametrize(
    "key",
    [
        "change-me-in-production",
        "CHANGE-ME-IN-PRODUCTION",
        "oms-insecure-development-key-never-use-in-production",
        "short-but-random-Hk2P9xQ",
        "a" * 60,
        "django-insecure-" + "x1y2z3" * 10,
    ],
)
def test_placeholder_or_short_secret_keys_refuse_to_start_outside_debug(key):
    result = load_settings(**production(DJANGO_SECRET_KEY=key))

    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY is a known placeholder or too short" in result.stderr


def test_a_placeholder_key_is_accepted_in_debug():
    result = load_settings(
        **production(DJANGO_SECRET_KEY="change-me-in-production", DJANGO_DEBUG="1")
    )

    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("password", ["oms", "postgres", "password", "PASSWORD", ""])
def test_well_known_database_passwords_refuse_to_start_outside_debug(password):
    url = f"postgres://oms:{password}@db.invalid:5432/oms"

    result = load_settings(**production(DATABASE_URL=url))

    assert result.returncode != 0
    assert "DATABASE_URL has an empty or well-known password" in result.stderr


@pytest.mark.parametrize(
    "override",
    [
        {"OMS_ALLOW_INSECURE_DATABASE_PASSWORD": "1"},
        {"OMS_ALLOW_INSECURE_KEY": "1"},  # `make test` and the local tools
        {"DJANGO_DEBUG": "1"},
    ],
)
def test_a_well_known_database_password_starts_with_an_explicit_override(override):
    result = load_settings(**production(DATABASE_URL="postgres://oms:oms@db:5432/oms", **override))

    assert result.returncode == 0, result.stderr


def test_docker_compose_requires_the_secrets_and_has_no_fallbacks():
    compose = (ROOT / "docker-compose.yml").read_text()

    assert "change-me-in-production" not in compose
    assert "POSTGRES_PASSWORD: oms" not in compose
    assert "oms:oms@" not in compose
    for name in ("DJANGO_SECRET_KEY", "POSTGRES_PASSWORD", "OMS_FIELD_ENCRYPTION_KEY"):
        assert f"${{{name}:?" in compose
