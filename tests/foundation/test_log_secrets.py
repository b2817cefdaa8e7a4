"""Secrets that travel in addresses (invitation links, calendar feeds, unsubscribe links)
never reach the logs, even when Django logs the path of a 404."""

import io
import logging

import pytest
from django.conf import settings
from django.urls import reverse

from config.logging import MaskSecretPaths, mask_secrets
from tests.auth import log_in
from tests.factories import UserFactory

SECRET = "Zx9-very-secret-token_Q"


@pytest.mark.parametrize(
    "path",
    [
        f"/groups/invitation/{SECRET}/",
        f"/calendar/{SECRET}.ics",
        f"/unsubscribe/{SECRET}/",
    ],
)
def test_a_secret_in_a_path_is_masked(path):
    assert SECRET not in mask_secrets(f"Not Found: {path}")
    assert mask_secrets("Not Found: /groups/harbour/") == "Not Found: /groups/harbour/"


def console_handler() -> logging.StreamHandler:
    """The handler the settings configure on the root logger."""
    (handler,) = [
        handler
        for handler in logging.getLogger().handlers
        if any(isinstance(each, MaskSecretPaths) for each in handler.filters)
    ]
    return handler


def test_the_console_log_masks_what_django_logs_for_a_dead_invitation(db, client):
    assert "mask_secrets" in settings.LOGGING["handlers"]["console"]["filters"]
    handler = console_handler()
    written = io.StringIO()
    previous = handler.setStream(written)
    log_in(client, UserFactory())
    try:
        response = client.get(reverse("groups:invitation", args=[SECRET]))
    finally:
        handler.setStream(previous)

    assert response.status_code == 404
    assert "Not Found: /groups/invitation/" in written.getvalue()  # Django did log it
    assert SECRET not in written.getvalue()
