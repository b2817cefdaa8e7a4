"""Small steps the foundation tests share: signing in as a person would, reading mail."""

import re
import time
from urllib.parse import urlsplit

import pyotp
from django.contrib.auth import SESSION_KEY
from django.urls import reverse


def sign_in(client, email: str, password: str):
    """Post the login form, exactly like the browser does."""
    return client.post(reverse("account_login"), {"login": email, "password": password})


def signed_in_user_id(client) -> str | None:
    return client.session.get(SESSION_KEY)


def link_path_in(message, path_prefix: str) -> str:
    """The path of the first link in an email whose path starts with `path_prefix`."""
    for url in re.findall(r"https?://\S+", message.body):
        path = urlsplit(url).path
        if path.startswith(path_prefix):
            return path
    raise AssertionError(f"No link to {path_prefix} in:\n{message.body}")


def totp_code(secret: str) -> str:
    """The authenticator app's current code, never one about to expire.

    allauth accepts only the current 30-second step (no tolerance), so a code read in
    the last moment of a step could be stale by the time the server checks it.
    """
    remaining = 30 - time.time() % 30
    if remaining < 2:
        time.sleep(remaining + 0.1)
    return pyotp.TOTP(secret).now()


def other_code(code: str) -> str:
    """A well-formed code that is certainly not `code`."""
    return f"{(int(code) + 1) % 1_000_000:06d}"
