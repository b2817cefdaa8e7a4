"""Tasks that run eagerly in tests fail loudly: tests/celery_eager.py.

With `task_always_eager` alone, Celery runs `.delay()` inline and keeps a task's exception
in the EagerResult it returns, so a test whose task raises still passes. `celery_eager()`
and the `eager_celery` fixture also set `task_eager_propagates`.
"""

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from django.db import transaction

from config.celery import app as celery_app
from tests.celery_eager import celery_eager

ROOT = Path(__file__).resolve().parents[2]


@celery_app.task(name="tests.foundation.explode")
def explode(message: str) -> None:
    raise RuntimeError(message)


def test_a_task_that_raises_raises_in_the_test_under_celery_eager():
    with celery_eager(), pytest.raises(RuntimeError, match=r"^the task broke$"):
        explode.delay("the task broke")


def test_eager_alone_would_have_kept_the_error_in_the_result():
    """The control: the setting celery_eager adds is what lets the error through."""
    with celery_eager():
        celery_app.conf.task_eager_propagates = False
        result = explode.delay("swallowed")
    assert result.failed()
    assert str(result.result) == "swallowed"


@pytest.mark.django_db
def test_a_task_queued_on_commit_raises_when_the_hooks_run(django_capture_on_commit_callbacks):
    with (
        pytest.raises(RuntimeError, match=r"^after the commit$"),
        celery_eager(),
        django_capture_on_commit_callbacks(execute=True),
    ):
        transaction.on_commit(lambda: explode.delay("after the commit"))


def settings_now() -> tuple[bool, bool]:
    return celery_app.conf.task_always_eager, celery_app.conf.task_eager_propagates


def test_celery_eager_sets_both_settings_and_puts_them_back():
    before = settings_now()
    with celery_eager():
        assert settings_now() == (True, True)
    assert settings_now() == before


def test_celery_eager_puts_both_settings_back_when_the_block_raises():
    before = settings_now()
    with pytest.raises(RuntimeError, match=r"^inside$"), celery_eager():
        raise RuntimeError("inside")
    assert settings_now() == before


INNER_TESTS = """
from config.celery import app
from tests.celery_eager import eager_celery  # noqa: F401


@app.task(name="inner.explode")
def explode():
    raise RuntimeError("the task broke")


def test_raising_task_under_eager_celery(eager_celery):
    explode.delay()


def test_raising_task_with_always_eager_only():
    app.conf.task_always_eager = True
    try:
        explode.delay()
    finally:
        app.conf.task_always_eager = False
"""


def test_a_raising_task_fails_the_test_that_uses_the_fixture(tmp_path):
    """Two tests run by pytest itself: the one with the fixture fails, the one with
    task_always_eager alone (as several fixtures had it) passes in spite of the error."""
    inner = tmp_path / "test_inner_eager.py"
    inner.write_text(textwrap.dedent(INNER_TESTS))
    run = subprocess.run(
        [
            *(sys.executable, "-m", "pytest", str(inner), "-c", str(ROOT / "pyproject.toml")),
            *("--ds=config.settings.test", "-p", "no:cacheprovider", "-q", "-rfE"),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert "1 failed, 1 passed" in run.stdout, run.stdout + run.stderr
    assert "FAILED" in run.stdout
    assert "test_raising_task_under_eager_celery - RuntimeError: the task broke" in run.stdout
