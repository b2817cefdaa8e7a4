"""Exactly-once notification delivery under faults, with real worker processes.

The tests publish send tasks to a Redis server of their own (started on a free port,
so the restart test needs no root and no other run on the machine shares it), run
`celery worker` (prefork, two children) as separate OS processes that read the test's
committed database, and count what a real SMTP server accepts, by Message-ID.

Faults: the worker's whole process group killed mid-batch, Redis shut down and started
again mid-batch, the same send task delivered twice (one after the other, and racing),
an SMTP server that drops its connection or refuses connections. In every case none is
lost, and each message is accepted once, but for the one promise SMTP cannot make:

A worker killed after the mail server accepted a message and before its COMMIT leaves
the row pending, and that message goes out once more, with the same Message-ID (see
members/notifications.py). The kill test asserts exactly that guarantee: nothing lost;
no message more than twice; a copy only of a message the server accepted in the last
moment before the kill (the server's answer and the COMMIT); so at most one copy per
pool process killed. Its control holds that window open and sees the guarantee fail.
"""

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from urllib.parse import quote

import pytest
import redis
from celery._state import _set_task_join_will_block
from django.conf import settings
from django.db import connection
from django.db.models import QuerySet
from django.test import override_settings
from django.utils import timezone

from config.celery import app as celery_app
from members import notifications
from members.models import Notification, NotificationPreferences, NotificationState
from members.tasks import send_notification
from sessions.models import Rsvp, RsvpResponse, RsvpStatus
from sessions.notifications import scan_reminders
from tests.concurrency import run_at_once
from tests.factories import CoordinatorFactory, MembershipFactory, SupportGroupFactory
from tests.meetings.factories import MeetingFactory
from tests.notifications.smtp_sink import SmtpSink, free_port

pytestmark = pytest.mark.django_db(transaction=True)

BATCH = 200
# The default queue's key in Redis (the test settings give each run its own prefix).
QUEUE = settings.CELERY_BROKER_TRANSPORT_OPTIONS.get("global_keyprefix", "") + "celery"
# Each accepted recipient costs the sink this long, so a batch of 200 takes a few
# seconds and a fault a fixed time into it always falls mid-batch.
RCPT_DELAY = 0.02
FAULT_AFTER = 1.0  # seconds after the first delivery
STARTUP_TIMEOUT = 90
BATCH_TIMEOUT = 90
# Seconds without progress that mean the live worker has nothing left (if wrong, a row
# still in hand is queued twice, which the row lock makes harmless).
QUIET = 2
# The pool processes of each worker; a kill can catch each inside its own window.
CONCURRENCY = 2
# How long before the kill a message may have been accepted and still be sent again: the
# window is the server's answer and the COMMIT (milliseconds); this allows for a loaded
# machine, and is far below the control's held-open window.
WINDOW_BOUND = 1.0


# ---------------------------------------------------------------- helpers


def wait_for(condition: Callable[[], object], *, timeout: float, what, interval=0.1):
    """Poll `condition` until it is true; `what` (text, or a callable giving the text
    at the time) says what was awaited when it times out."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            described = what() if callable(what) else what
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {described}")
        time.sleep(interval)


def make_due_reminders(count: int) -> list[int]:
    """`count` members going to a meeting in 50 minutes, each wanting the hour-before
    reminder: the reminder scan creates one due row per member. Returns their ids."""
    group = SupportGroupFactory()
    meeting = MeetingFactory(group=group, starts_at=timezone.now() + timedelta(minutes=50))
    members = [MembershipFactory(group=group).user for _ in range(count)]
    NotificationPreferences.objects.bulk_create(
        NotificationPreferences(user=user, reminder_day_before=False, reminder_hour_before=True)
        for user in members
    )
    Rsvp.objects.bulk_create(
        Rsvp(meeting=meeting, user=user, response=RsvpResponse.GOING, status=RsvpStatus.CONFIRMED)
        for user in members
    )
    assert scan_reminders(timezone.now()) == count
    return list(Notification.objects.order_by("id").values_list("id", flat=True))


def states() -> dict[str, int]:
    counts: dict[str, int] = {}
    for state in Notification.objects.values_list("state", flat=True):
        counts[state] = counts.get(state, 0) + 1
    return counts


def sent_count() -> int:
    return Notification.objects.filter(state=NotificationState.SENT).count()


def smtp_to(port: int):
    """Send from this process through SMTP to 127.0.0.1:port."""
    return override_settings(
        EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
        EMAIL_HOST="127.0.0.1",
        EMAIL_PORT=port,
        EMAIL_HOST_USER="",
        EMAIL_HOST_PASSWORD="",
        EMAIL_USE_TLS=False,
        EMAIL_USE_SSL=False,
        EMAIL_TIMEOUT=10,
    )


def publish_to(url: str) -> None:
    """Point this process's task publishing at `url`.

    The app keeps its connection and producer pools from the first publish, made from
    the settings of the whole run; forget them so the next publish uses `url` (kombu
    keeps the pools themselves, one per broker address, for the next time).
    """
    celery_app._pool = None
    celery_app.amqp._producer_pool = None
    celery_app.conf.broker_url = url


class PrivateRedis:
    """A throwaway redis-server on a free port, the broker of these tests alone.

    The restart test stops and starts it at will; no other test, and no other run on
    this machine, shares it, and it needs no root (it keeps nothing on disk).
    """

    def __init__(self, directory: Path):
        self.port = free_port()
        self.directory = directory
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def answers(self) -> bool:
        """PING on a plain socket: a client library would retry and hide the moment."""
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1) as probe:
                probe.sendall(b"PING\r\n")
                return probe.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def start(self) -> None:
        if self.answers():
            return
        server = shutil.which("redis-server")
        assert server, "the fault tests start a Redis of their own: install redis-server"
        self.process = subprocess.Popen(
            [server, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(self.directory)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        wait_for(self.answers, timeout=30, what="the tests' Redis to answer")

    def shutdown(self) -> None:
        """Stop it without saving: the queue and the unacknowledged tasks are gone."""
        with contextlib.suppress(redis.ConnectionError):
            redis.Redis(port=self.port).shutdown(nosave=True)
        wait_for(lambda: not self.answers(), timeout=30, what="the tests' Redis to stop")
        if self.process is not None:
            self.process.wait(timeout=30)

    def stop(self) -> None:
        if self.answers():
            self.shutdown()
        if self.process is not None and self.process.poll() is None:
            self.process.kill()


class Worker:
    """`celery worker` in its own process group, on the test's database and broker."""

    def __init__(self, *, email_url: str, broker_url: str, log_path: Path, app: str = "config"):
        db = connection.settings_dict
        credentials = quote(db["USER"]) + (f":{quote(db['PASSWORD'])}" if db["PASSWORD"] else "")
        database_url = (
            f"postgres://{credentials}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}"
            f"/{db['NAME']}"
        )
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings.test",
            "TEST_DATABASE_URL": database_url,
            "TEST_CELERY_BROKER_URL": broker_url,
            "TEST_EMAIL_URL": email_url,
            "PYTHONUNBUFFERED": "1",
        }
        self.log_path = log_path
        with open(log_path, "ab") as log:
            self.process = subprocess.Popen(
                [
                    sys.executable, "-m", "celery", "-A", app, "worker",
                    "--pool=prefork", f"--concurrency={CONCURRENCY}", "--loglevel=INFO",
                    "--without-gossip", "--without-mingle", "--without-heartbeat",
                    f"--hostname=faults-{os.getpid()}-{log_path.stem}@%h",
                ],
                cwd=settings.BASE_DIR,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: the pool children too
            )  # fmt: skip

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_ready(self) -> "Worker":
        def ready():
            if self.process.poll() is not None:
                raise AssertionError(f"the worker exited early:\n{self.log()[-3000:]}")
            return " ready." in self.log()

        wait_for(ready, timeout=STARTUP_TIMEOUT, what="the worker to start", interval=0.2)
        return self

    def kill(self) -> None:
        """SIGKILL the whole process group: the main process and its pool children."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()  # warm shutdown: finish the tasks in hand
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=30)
        self.kill()  # and anything left in the group


@pytest.fixture(autouse=True)
def _results_can_be_awaited():
    """These tests wait on task results in this process (see tests/celery_eager.py)."""
    _set_task_join_will_block(False)


@pytest.fixture(autouse=True)
def _close_kept_mail_connection():
    """This thread keeps its SMTP connection between sends: not between tests."""
    yield
    notifications._mail_connection_close()


@pytest.fixture(scope="module")
def private_redis(tmp_path_factory):
    server = PrivateRedis(tmp_path_factory.mktemp("redis"))
    server.start()
    yield server
    server.stop()


@pytest.fixture
def broker(private_redis):
    """The tests' own broker, empty before and after; this process publishes there."""
    private_redis.start()
    client = redis.Redis.from_url(private_redis.url)
    client.flushdb()
    previous = celery_app.conf.broker_url
    publish_to(private_redis.url)
    yield client
    private_redis.start()  # a failed restart test leaves it stopped
    redis.Redis.from_url(private_redis.url).flushdb()
    publish_to(previous)


@pytest.fixture
def workers(private_redis, broker, tmp_path):
    """Start worker processes with `workers(email_url)`; every one is stopped afterwards."""
    started: list[Worker] = []

    def start(email_url: str, *, app: str = "config") -> Worker:
        worker = Worker(
            email_url=email_url,
            broker_url=private_redis.url,
            log_path=tmp_path / f"worker{len(started) + 1}.log",
            app=app,
        )
        started.append(worker)
        return worker.wait_ready()

    yield start
    for worker in started:
        worker.stop()


def recover_and_finish(sink: SmtpSink, *, broker: redis.Redis) -> int:
    """Let the live worker drain the queue, re-dispatch what is left as the minute clock
    would five minutes on, and wait until every row is sent. Returns how many rows the
    re-dispatch found with their task lost."""
    last = {"progress": None, "since": time.monotonic()}

    def drained():
        # Nothing left in the queue, and nothing sent for a while.
        progress = (broker.llen(QUEUE), sent_count(), sink.delivered())
        if progress != last["progress"]:
            last.update(progress=progress, since=time.monotonic())
            return False
        return progress[0] == 0 and time.monotonic() - last["since"] >= QUIET

    wait_for(drained, timeout=BATCH_TIMEOUT, what="the queue to drain")
    later = timezone.now() + notifications.REQUEUE_AFTER + timedelta(seconds=1)
    requeued = notifications.dispatch_due(now=later)
    wait_for(
        lambda: sent_count() == BATCH,
        timeout=BATCH_TIMEOUT,
        what=lambda: f"every row to be sent (now {states()})",
    )
    # Anything still on its way to the sink would show up here as a duplicate.
    time.sleep(1)
    return requeued


def outcome(ids: list[int], sink: SmtpSink) -> dict:
    counts = sink.counts()
    return {
        "sent": len(set(ids) & set(counts)),
        "duplicates": sum(count - 1 for count in counts.values() if count > 1),
        "lost": len(set(ids) - set(counts)),
        "strangers": sorted(set(counts) - set(ids)),
    }


def report(capsys, label: str, figures: dict) -> None:
    with capsys.disabled():
        print(f"\n[{label}] " + ", ".join(f"{key}={value}" for key, value in figures.items()))


def copies_outside_the_window(sink: SmtpSink, killed_at: float) -> dict:
    """The messages sent again whose first acceptance came before the window, with how
    long before the kill it was (an empty dict keeps the guarantee)."""
    first = sink.first_accepted_at()
    return {
        key: round(killed_at - first[key], 3)
        for key in sink.duplicates()
        if killed_at - first[key] > WINDOW_BOUND
    }


def assert_at_most_the_copies_smtp_allows(
    ids: list[int], sink: SmtpSink, figures: dict, killed_at: float
) -> None:
    assert figures["lost"] == 0
    assert figures["strangers"] == []
    assert states() == {NotificationState.SENT: len(ids)}
    assert max(sink.counts().values()) <= 2, sink.duplicates()
    assert figures["duplicates"] <= CONCURRENCY, sink.duplicates()
    late = copies_outside_the_window(sink, killed_at)
    assert late == {}, f"sent again, first accepted this long before the kill: {late}"
    assert sink.delivered() == len(ids) + figures["duplicates"]


def assert_each_sent_once(ids: list[int], sink: SmtpSink, figures: dict) -> None:
    assert figures["duplicates"] == 0, sink.duplicates()
    assert figures["lost"] == 0
    assert figures["strangers"] == []
    assert figures["sent"] == len(ids)
    assert sink.delivered() == len(ids)
    assert states() == {NotificationState.SENT: len(ids)}


# ---------------------------------------------------------------- the faults


def test_killing_the_worker_mid_batch_loses_no_reminder_and_sends_none_twice(
    broker, workers, capsys
):
    ids = make_due_reminders(BATCH)
    with SmtpSink(rcpt_delay=RCPT_DELAY) as sink:
        first = workers(sink.url)
        assert notifications.dispatch_due() == BATCH
        wait_for(sink.delivered, timeout=STARTUP_TIMEOUT, what="the first delivery")
        time.sleep(FAULT_AFTER)
        killed_at = time.monotonic()
        first.kill()
        at_kill = sink.delivered()
        assert 0 < at_kill < BATCH, "the kill did not fall mid-batch"

        workers(sink.url)
        requeued = recover_and_finish(sink, broker=broker)

    figures = outcome(ids, sink) | {"delivered_before_kill": at_kill, "requeued": requeued}
    report(capsys, "worker killed", figures)
    # The copies SMTP allows: a message the server accepted from a pool process just
    # before the kill, sent again under the same Message-ID (counted by that id).
    assert_at_most_the_copies_smtp_allows(ids, sink, figures, killed_at)


def test_control_with_the_window_held_open_a_kill_sends_more_than_one_copy(broker, workers, capsys):
    """The kill test's guarantee can fail: the same kill, against a worker that waits
    after the server's acceptance before it commits, sends again messages the server had
    accepted a second before the kill, far outside the window the guarantee allows."""
    ids = make_due_reminders(BATCH)
    with SmtpSink(rcpt_delay=RCPT_DELAY) as sink:
        first = workers(sink.url, app="tests.notifications.wide_window_worker")
        assert notifications.dispatch_due() == BATCH
        wait_for(lambda: sink.delivered() >= 2, timeout=STARTUP_TIMEOUT, what="two deliveries")
        time.sleep(2 * FAULT_AFTER)  # well past WINDOW_BOUND, inside the held-open window
        killed_at = time.monotonic()
        first.kill()
        at_kill = sink.delivered()

        workers(sink.url)
        requeued = recover_and_finish(sink, broker=broker)

    figures = outcome(ids, sink) | {"delivered_before_kill": at_kill, "requeued": requeued}
    report(capsys, "worker killed inside a held-open window", figures)
    assert figures["lost"] == 0
    assert states() == {NotificationState.SENT: len(ids)}
    assert figures["duplicates"] >= 1
    assert copies_outside_the_window(sink, killed_at), "the kill test's guarantee still held"
    with pytest.raises(AssertionError, match="sent again, first accepted this long before"):
        assert_at_most_the_copies_smtp_allows(ids, sink, figures, killed_at)


def test_a_redis_restart_mid_batch_loses_no_reminder_and_sends_none_twice(
    private_redis, broker, workers, capsys
):
    ids = make_due_reminders(BATCH)
    with SmtpSink(rcpt_delay=RCPT_DELAY) as sink:
        workers(sink.url)
        assert notifications.dispatch_due() == BATCH
        wait_for(sink.delivered, timeout=STARTUP_TIMEOUT, what="the first delivery")
        time.sleep(FAULT_AFTER)
        private_redis.shutdown()  # nosave: the queue and the unacknowledged tasks are gone
        at_stop = sink.delivered()
        time.sleep(1.5)  # the worker finishes what it holds, then looks for the broker
        private_redis.start()  # the same port: the worker reconnects
        assert 0 < at_stop < BATCH, "the restart did not fall mid-batch"

        requeued = recover_and_finish(sink, broker=broker)

    figures = outcome(ids, sink) | {"delivered_before_stop": at_stop, "requeued": requeued}
    report(capsys, "redis restarted", figures)
    assert_each_sent_once(ids, sink, figures)


def test_a_send_task_delivered_twice_sends_one_email(capsys):
    one_after_other, racing = make_due_reminders(2)

    with SmtpSink() as sink, smtp_to(sink.port):
        in_turn = [send_notification.apply(args=[one_after_other]).get() for _ in range(2)]
    # The sink holds each recipient long enough for the second task to arrive mid-send.
    with SmtpSink(rcpt_delay=0.3) as racing_sink, smtp_to(racing_sink.port):
        at_once = run_at_once([lambda: send_notification.apply(args=[racing]).get()] * 2)

    report(capsys, "task delivered twice", {"in_turn": in_turn, "at_once": sorted(at_once)})
    assert in_turn == ["sent", "sent"]  # the second finds the row already sent
    assert sorted(at_once) == ["locked", "sent"]
    assert sink.counts() == {one_after_other: 1}
    assert racing_sink.counts() == {racing: 1}
    assert states() == {NotificationState.SENT: 2}
    assert set(Notification.objects.values_list("attempts", flat=True)) == {1}


def test_without_the_row_lock_racing_tasks_send_twice(monkeypatch):
    """The control for the race above: with the claim taking no lock, both send."""
    (notification_id,) = make_due_reminders(1)
    monkeypatch.setattr(QuerySet, "select_for_update", lambda self, **kwargs: self)

    with SmtpSink(rcpt_delay=0.3) as sink, smtp_to(sink.port):
        run_at_once([lambda: send_notification.apply(args=[notification_id]).get()] * 2)

    assert sink.counts() == {notification_id: 2}


def test_one_smtp_connection_carries_many_messages_and_is_replaced_when_the_server_drops_it():
    first, second, third = make_due_reminders(3)
    port = free_port()

    with smtp_to(port):
        with SmtpSink(port=port) as sink:
            sent = [notifications.notification_send(notification_id=pk) for pk in (first, second)]
        # The server went away and came back: the kept connection is dead; NOOP finds out
        # before anything is sent, so the message goes out now rather than as a retry.
        with SmtpSink(port=port) as restarted:
            sent.append(notifications.notification_send(notification_id=third))

    assert sent == ["sent", "sent", "sent"]
    assert (sink.connections(), sink.counts()) == (1, {first: 1, second: 1})
    assert (restarted.connections(), restarted.counts()) == (1, {third: 1})
    assert set(Notification.objects.values_list("attempts", flat=True)) == {1}


def test_a_refusing_smtp_server_is_retried_with_backoff_then_failed_then_sent_once_after_retry(
    broker, workers, capsys
):
    (notification_id,) = make_due_reminders(1)
    port = free_port()  # nothing listens there yet: every connection is refused
    clock = Notification.objects.get(pk=notification_id).due_at
    waits = []

    with smtp_to(port):
        for attempt in range(1, notifications.MAX_ATTEMPTS + 1):
            result = notifications.notification_send(notification_id=notification_id, now=clock)
            row = Notification.objects.get(pk=notification_id)
            assert row.attempts == attempt
            assert "ConnectionRefusedError" in row.last_error
            if attempt == notifications.MAX_ATTEMPTS:
                break
            assert result == "retry"
            assert row.state == NotificationState.PENDING
            assert row.claimed_at is None
            assert row.due_at == clock + notifications.RETRY_BASE * 2 ** (attempt - 1)
            # Neither the dispatcher nor a stray task sends it before its time.
            assert notifications.dispatch_due(now=row.due_at - timedelta(seconds=1)) == 0
            assert (
                notifications.notification_send(
                    notification_id=notification_id, now=row.due_at - timedelta(seconds=1)
                )
                == "not-due"
            )
            waits.append(int((row.due_at - clock).total_seconds() // 60))
            clock = row.due_at

    assert result == "failed"
    assert row.state == NotificationState.FAILED
    assert row.last_error
    with smtp_to(port):  # a failed row stays failed, whoever runs its task
        assert send_notification.apply(args=[notification_id]).get() == "failed"

    assert notifications.notification_retry(
        notification_id=notification_id, actor=CoordinatorFactory()
    )
    row = Notification.objects.get(pk=notification_id)
    assert (row.state, row.attempts, row.claimed_at) == (NotificationState.PENDING, 0, None)
    assert broker.llen(QUEUE) == 1  # the retry queued its send task

    with SmtpSink(port=port) as sink:  # the mail server is back on the same port
        workers(sink.url)
        wait_for(
            lambda: Notification.objects.get(pk=notification_id).state == NotificationState.SENT,
            timeout=BATCH_TIMEOUT,
            what="the retried message to be sent",
        )
        time.sleep(0.5)

    figures = outcome([notification_id], sink) | {
        "attempts_before_failed": notifications.MAX_ATTEMPTS,
        "backoff_minutes": waits,
    }
    report(capsys, "smtp refused", figures)
    assert sink.counts() == {notification_id: 1}
    assert Notification.objects.get(pk=notification_id).attempts == 1
