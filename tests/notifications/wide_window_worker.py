"""A Celery app for the kill test's control: the same worker, with the one window wide.

`celery -A tests.notifications.wide_window_worker worker` runs the product's tasks, but
every message the SMTP server accepts is followed by a pause before the sender returns,
so the COMMIT that marks the row sent comes WINDOW seconds later. A kill then finds each
pool child inside the window, and the guarantee the kill test asserts (at most one copy)
must fail: the control that shows the test can see copies.
"""

import time

from django.core.mail.backends import smtp

from config.celery import app  # noqa: F401  (the app celery -A loads)

WINDOW = 3.0

_send_messages = smtp.EmailBackend.send_messages


def _send_then_linger(self, email_messages):
    sent = _send_messages(self, email_messages)
    time.sleep(WINDOW)
    return sent


smtp.EmailBackend.send_messages = _send_then_linger
