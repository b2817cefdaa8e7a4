"""Response headers, production settings and templates that keep the CSP strict."""

import json
import os
import re
import secrets
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from members.models import User
from tests.auth import log_in

REPO = Path(settings.BASE_DIR)
TEMPLATES_DIR = REPO / "templates"


def csp_directives(header: str) -> dict[str, list[str]]:
    directives = {}
    for part in header.split(";"):
        name, *values = part.split()
        directives[name] = values
    return directives


@pytest.mark.django_db
@pytest.mark.parametrize("url_name", ["home", "account_login", "account_signup"])
def test_pages_carry_a_strict_content_security_policy(client, url_name):
    response = client.get(reverse(url_name))

    assert response.status_code == 200
    csp = csp_directives(response["Content-Security-Policy"])
    assert csp["script-src"] == ["'self'"]
    assert csp["style-src"] == ["'self'"]
    assert csp["object-src"] == ["'none'"]
    assert csp["base-uri"] == ["'none'"]
    assert csp["frame-ancestors"] == ["'none'"]
    assert not any("unsafe" in value for values in csp.values() for value in values)


@pytest.mark.django_db
def test_pages_carry_the_browser_hardening_headers(client):
    response = client.get("/")

    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Frame-Options"] == "DENY"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"


def production_env(**overrides) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "DATABASE_", "REDIS_", "CELERY_", "SECURE_"))
    }
    env.update(
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS="peers.example.org",
        DATABASE_URL="sqlite:///:memory:",
        PYTHONDONTWRITEBYTECODE="1",
    )
    env.update(overrides)
    return {key: value for key, value in env.items() if value is not None}


def manage(*args, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args, "--settings=config.settings.production"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_production_settings_pass_the_deploy_checks_without_warnings():
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=production_env())

    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(
    ("missing", "message"),
    [
        ({"SECRET_KEY": None}, "Set SECRET_KEY"),
        ({"SECRET_KEY": "dev-only-insecure-key-change-me"}, "Set SECRET_KEY"),
        ({"ALLOWED_HOSTS": None}, "Set ALLOWED_HOSTS"),
    ],
)
def test_production_settings_refuse_to_start_without_secrets_and_hosts(missing, message):
    result = manage("check", env=production_env(**missing))

    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert message in result.stderr


def test_production_settings_force_https_and_secure_cookies():
    script = (
        "import django, json; django.setup(); from django.conf import settings as s; "
        "print(json.dumps({k: getattr(s, k) for k in ("
        "'DEBUG', 'SESSION_COOKIE_SECURE', 'CSRF_COOKIE_SECURE', 'LANGUAGE_COOKIE_SECURE', "
        "'SECURE_SSL_REDIRECT', 'SECURE_HSTS_SECONDS', 'SECURE_HSTS_INCLUDE_SUBDOMAINS', "
        "'SECURE_PROXY_SSL_HEADER', 'DEMO_DATA_ALLOWED', 'ACCOUNT_DEFAULT_HTTP_PROTOCOL')}))"
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=REPO,
        env=production_env(DJANGO_SETTINGS_MODULE="config.settings.production"),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr

    values = json.loads(result.stdout)
    assert values["DEBUG"] is False
    assert values["SESSION_COOKIE_SECURE"] is True
    assert values["CSRF_COOKIE_SECURE"] is True
    assert values["LANGUAGE_COOKIE_SECURE"] is True
    assert values["SECURE_SSL_REDIRECT"] is True
    assert values["SECURE_HSTS_SECONDS"] >= 60 * 60 * 24 * 180
    assert values["SECURE_HSTS_INCLUDE_SUBDOMAINS"] is True
    assert values["SECURE_PROXY_SSL_HEADER"] == ["HTTP_X_FORWARDED_PROTO", "https"]
    assert values["DEMO_DATA_ALLOWED"] is False
    assert values["ACCOUNT_DEFAULT_HTTP_PROTOCOL"] == "https"


def test_seed_demo_is_refused_in_production_and_writes_nothing(tmp_path):
    database = tmp_path / "production.sqlite3"
    env = production_env(DATABASE_URL=f"sqlite:///{database}")
    migrated = manage("migrate", "--verbosity", "0", env=env)
    assert migrated.returncode == 0, migrated.stderr

    result = manage("seed_demo", env=env)

    assert result.returncode != 0
    assert "Demo data is refused" in result.stderr
    with sqlite3.connect(database) as connection:
        for table in ("members_user", "account_emailaddress", "groups_supportgroup"):
            (count,) = connection.execute(f"SELECT COUNT(*) FROM {table}").fetchone()
            assert count == 0, table


INLINE_SCRIPT = re.compile(r"<script\b(?![^>]*\bsrc\s*=)[^>]*>", re.IGNORECASE)
STYLE_ELEMENT = re.compile(r"<style\b", re.IGNORECASE)
STYLE_ATTRIBUTE = re.compile(r"\sstyle\s*=", re.IGNORECASE)
EVENT_HANDLER = re.compile(r"\son[a-z]+\s*=", re.IGNORECASE)
JAVASCRIPT_URL = re.compile(r"javascript:", re.IGNORECASE)
FORBIDDEN = {
    "inline <script> body": INLINE_SCRIPT,
    "<style> element": STYLE_ELEMENT,
    "style= attribute": STYLE_ATTRIBUTE,
    "on*= event handler": EVENT_HANDLER,
    "javascript: URL": JAVASCRIPT_URL,
}


def inline_code_in(html: str) -> list[str]:
    return [
        f"{what}: {match.group(0)!r}"
        for what, pattern in FORBIDDEN.items()
        for match in pattern.finditer(html)
    ]


def test_inline_code_detector_catches_what_the_csp_would_block():
    assert inline_code_in('<script>alert(1)</script><p style="color:red" onclick="x()">')
    assert inline_code_in('<a href="javascript:void(0)">x</a><style>p{}</style>')
    assert not inline_code_in('<script src="/static/app.js" defer></script><p class="a">')


def project_templates() -> list[Path]:
    return sorted(path for path in TEMPLATES_DIR.rglob("*") if path.is_file())


def test_there_are_project_templates_to_scan():
    assert {"base.html", "home.html"} <= {path.name for path in project_templates()}


@pytest.mark.parametrize(
    "template", project_templates(), ids=lambda path: str(path.relative_to(TEMPLATES_DIR))
)
def test_templates_hold_no_inline_script_or_style(template):
    assert inline_code_in(template.read_text(encoding="utf-8")) == []


@pytest.mark.django_db
@pytest.mark.parametrize(
    "url_name",
    [
        "home",
        "account_login",
        "account_signup",
        "account_reset_password",
        "members:account",
        "account_email",
        "account_change_password",
        "mfa_index",
    ],
)
def test_rendered_pages_hold_no_inline_script_or_style(client, user, url_name):
    """Third-party templates (allauth) are rendered inside our layout: check the output."""
    if url_name.startswith(("members:", "account_email", "account_change", "mfa_")):
        log_in(client, user)

    response = client.get(reverse(url_name))

    assert response.status_code == 200
    assert inline_code_in(response.content.decode()) == []


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("url_name", "data"),
    [
        ("account_login", {"login": "someone@example.org", "password": "whatever-1"}),
        ("members:switch_language", {"language": "it", "next": "/"}),
        ("members:account", {"display_name": "X", "time_zone": "UTC", "language": "en"}),
    ],
)
def test_forms_refuse_posts_without_a_csrf_token(user, url_name, data):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(user)
    if url_name == "account_login":
        browser.logout()

    response = browser.post(reverse(url_name), data)

    assert response.status_code == 403
    assert User.objects.get(pk=user.pk).display_name == user.display_name
