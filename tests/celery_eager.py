"""Celery tasks run in the test's own thread, and a task that raises fails the test.

`task_always_eager` alone runs `.delay()` inline but keeps the exception in the returned
EagerResult, so a task that raises lets its test pass. Every eager run in the suite goes
through `celery_eager()`, which also sets `task_eager_propagates`, and puts both settings
back as they were afterwards.

    from tests.celery_eager import celery_eager

    with celery_eager():
        services.membership_request(...)  # its on-commit .delay() runs, and may raise

The `eager_celery` fixture does the same for a whole test, and yields `run_on_commit`: a
context manager that runs the block's on-commit hooks (and so the tasks they queue) at its
end, for tests inside a transaction that is never committed. Test packages make the
fixture available from their conftest.py:

    from tests.celery_eager import eager_celery  # noqa: F401
"""

from contextlib import contextmanager

import pytest
from celery._state import _set_task_join_will_block

from config.celery import app as celery_app


@contextmanager
def celery_eager(app=celery_app):
    """Run tasks inline and let their exceptions through; restore both settings after."""
    previous = (app.conf.task_always_eager, app.conf.task_eager_propagates)
    app.conf.task_always_eager = True
    app.conf.task_eager_propagates = True
    try:
        yield app
    finally:
        app.conf.task_always_eager, app.conf.task_eager_propagates = previous
        # Each eager .delay() marks the process "inside a task" while it runs, and puts
        # back what it found; two threads doing so at once (the race tests) can leave the
        # mark on, after which every result.get() in this process refuses to wait.
        _set_task_join_will_block(False)


@pytest.fixture
def eager_celery(django_capture_on_commit_callbacks):
    """Tasks run inline for the whole test, and raise; yields `run_on_commit`."""

    def run_on_commit():
        return django_capture_on_commit_callbacks(execute=True)

    with celery_eager():
        yield run_on_commit
