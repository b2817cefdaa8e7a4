"""Calendar feed tokens stop being stored: a nonce and the token's SHA-256 take their place.

Existing addresses are already in members' calendars, so they keep working: each row gets
the hash of its plain token and an empty nonce (the settings page replaces such an address
when the member next visits it, since it can no longer be shown).
"""

import base64
import hashlib
import secrets

from django.db import migrations, models
from django.utils.crypto import constant_time_compare, salted_hmac

BATCH = 1000
KEY_SALT = "meetings.calendar-feed"  # as CalendarFeedToken.KEY_SALT


def _sha256(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def hash_plain_tokens(apps, schema_editor):
    """Each row keeps its address working through the hash of its plain token."""
    CalendarFeedToken = apps.get_model("meetings", "CalendarFeedToken")
    rows = []
    for row in CalendarFeedToken.objects.only("pk", "token").iterator(chunk_size=BATCH):
        row.token_hash = _sha256(row.token)
        row.nonce = ""
        rows.append(row)
        if len(rows) == BATCH:
            CalendarFeedToken.objects.bulk_update(rows, ["token_hash", "nonce"])
            rows = []
    CalendarFeedToken.objects.bulk_update(rows, ["token_hash", "nonce"])


def restore_plain_tokens(apps, schema_editor):
    """Going back: rows with a nonce get their token again; a pre-hashing row's plain token
    is lost, so it gets a new one (that member's address changes)."""
    CalendarFeedToken = apps.get_model("meetings", "CalendarFeedToken")
    rows = []
    for row in CalendarFeedToken.objects.only("pk", "nonce", "token_hash").iterator(
        chunk_size=BATCH
    ):
        token = None
        if row.nonce:
            digest = salted_hmac(KEY_SALT, row.nonce, algorithm="sha256").digest()
            token = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
            if not constant_time_compare(_sha256(token), row.token_hash):
                token = None  # made under another SECRET_KEY
        row.token = token or secrets.token_urlsafe(32)
        rows.append(row)
        if len(rows) == BATCH:
            CalendarFeedToken.objects.bulk_update(rows, ["token"])
            rows = []
    CalendarFeedToken.objects.bulk_update(rows, ["token"])


class Migration(migrations.Migration):

    dependencies = [
        ("meetings", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="calendarfeedtoken",
            name="nonce",
            field=models.CharField(blank=True, default="", max_length=64),
        ),
        migrations.AddField(
            model_name="calendarfeedtoken",
            name="token_hash",
            field=models.CharField(max_length=64, null=True),
        ),
        # Nullable before it goes, so that going back can add it again to a full table.
        migrations.AlterField(
            model_name="calendarfeedtoken",
            name="token",
            field=models.CharField(max_length=64, null=True, unique=True),
        ),
        migrations.RunPython(hash_plain_tokens, restore_plain_tokens, elidable=False),
        migrations.RemoveField(
            model_name="calendarfeedtoken",
            name="token",
        ),
        migrations.AlterField(
            model_name="calendarfeedtoken",
            name="token_hash",
            field=models.CharField(max_length=64, unique=True),
        ),
    ]
