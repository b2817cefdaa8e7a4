"""Log filters: secrets that travel in addresses never reach the logs."""

import logging
import re

# Addresses whose last part is a secret: invitation links, private calendar feeds and
# one-click unsubscribe links.
_SECRET_IN_PATH = re.compile(
    r"(/groups/invitation/|/calendar/|/unsubscribe/)[^/\s\"'?]+", re.IGNORECASE
)
MASK = "…"


def mask_secrets(text: str) -> str:
    return _SECRET_IN_PATH.sub(lambda match: match.group(1) + MASK, text)


class MaskSecretPaths(logging.Filter):
    """Rewrite a record's message so that a secret in a path (a 404 for a dead invitation
    link, say, which Django logs as a warning with the path) is not written out."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = mask_secrets(message)
        if masked != message:
            record.msg, record.args = masked, None
        return True
