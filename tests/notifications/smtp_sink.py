"""A real SMTP server on 127.0.0.1 that keeps the Message-ID of every message it accepts.

Our emails carry `Message-ID: <notification-{id}@...>`, so counting deliveries per id
shows a message sent twice or never. A message counts as delivered at the moment the
server accepts it (the end of DATA), before the client has read the answer: exactly as
a real mail server would have it in its queue.
"""

import asyncio
import re
import socket
import threading
import time
from collections import Counter
from email.parser import BytesHeaderParser

from aiosmtpd.controller import Controller

NOTIFICATION_ID = re.compile(r"<notification-(\d+)@")


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on (yet)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class _Handler:
    def __init__(self, sink: "SmtpSink"):
        self.sink = sink

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        session.host_name = hostname
        self.sink.greeted()
        return responses

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        # A real server takes a moment per recipient (DNS, policy checks). The pause
        # comes before the message is sent, so it never widens the window between
        # "server accepted" and "client knows".
        if self.sink.rcpt_delay:
            await asyncio.sleep(self.sink.rcpt_delay)
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        headers = BytesHeaderParser().parsebytes(envelope.original_content or envelope.content)
        self.sink.record(str(headers.get("Message-ID", "")).strip())
        return "250 Message accepted for delivery"


class SmtpSink:
    """Start with `with SmtpSink() as sink:`; read `sink.counts()` at any time."""

    def __init__(self, *, port: int | None = None, rcpt_delay: float = 0.0):
        self.port = port or free_port()
        self.rcpt_delay = rcpt_delay
        self._lock = threading.Lock()
        self._deliveries: list[tuple[float, str]] = []
        self._greetings = 0
        self._controller: Controller | None = None

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    def start(self) -> "SmtpSink":
        self._controller = Controller(
            _Handler(self), hostname="127.0.0.1", port=self.port, ready_timeout=30
        )
        self._controller.start()
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def __enter__(self) -> "SmtpSink":
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()

    def record(self, message_id: str) -> None:
        with self._lock:
            self._deliveries.append((time.monotonic(), message_id))

    def greeted(self) -> None:
        with self._lock:
            self._greetings += 1

    def connections(self) -> int:
        """How many SMTP sessions clients opened (each greets once, with EHLO)."""
        with self._lock:
            return self._greetings

    def message_ids(self) -> list[str]:
        """Every delivery in the order accepted, one entry per delivery."""
        with self._lock:
            return [message_id for _at, message_id in self._deliveries]

    def counts(self) -> Counter:
        """How many times each notification id was delivered."""
        ids = Counter()
        for message_id in self.message_ids():
            match = NOTIFICATION_ID.search(message_id)
            ids[int(match.group(1)) if match else message_id] += 1
        return ids

    def delivered(self) -> int:
        with self._lock:
            return len(self._deliveries)

    def first_accepted_at(self) -> dict:
        """When (time.monotonic()) each notification id was first accepted."""
        first = {}
        with self._lock:
            deliveries = list(self._deliveries)
        for at, message_id in deliveries:
            match = NOTIFICATION_ID.search(message_id)
            first.setdefault(int(match.group(1)) if match else message_id, at)
        return first

    def duplicates(self) -> dict:
        return {key: count for key, count in self.counts().items() if count > 1}
