from importlib import import_module

from celery import shared_task
from django.conf import settings
from django.contrib.auth import SESSION_KEY

# allauth keeps the email used to sign in inside the session, also for a sign-in that
# stopped at the two-factor step; it marks such sessions with the user's id here.
ALLAUTH_SESSION_USER_KEY = "account_authentication_methods_user"


@shared_task
def sessions_purge_for_user(user_id: int) -> int:
    """Delete every stored session of one person, from the database and the cache.

    Session rows have no user column, so each is decoded; this runs on a worker,
    only after an erasure, and reads the table in chunks.
    """
    store_class = import_module(settings.SESSION_ENGINE).SessionStore
    wanted = str(user_id)
    deleted = 0
    for session in store_class.get_model_class().objects.iterator(chunk_size=2000):
        data = session.get_decoded()
        if wanted in (str(data.get(SESSION_KEY)), str(data.get(ALLAUTH_SESSION_USER_KEY))):
            store_class(session_key=session.session_key).delete()
            deleted += 1
    return deleted


@shared_task(acks_late=True, reject_on_worker_lost=True)
def send_notification(notification_id: int) -> str:
    from members import notifications

    return notifications.notification_send(notification_id=notification_id)


@shared_task
def notifications_tick() -> dict:
    """Every minute (beat): create the rows now due, then queue what is due to send."""
    from members import notifications

    created = notifications.scan_all()
    created["queued"] = notifications.dispatch_due()
    return created
