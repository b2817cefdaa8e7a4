"""The embedded default of `make run`: a private PostgreSQL that starts, keeps its data
and stops, with no installed server and no configuration (scripts/embedded_postgres.py)."""

import subprocess
import sys
from pathlib import Path

import environ
import psycopg2
import pytest
from django.conf import settings

SCRIPT = Path(settings.BASE_DIR) / "scripts" / "embedded_postgres.py"


def embedded(command: str, directory: Path) -> str:
    result = subprocess.run(
        [sys.executable, str(SCRIPT), command, str(directory)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def connect(url: str):
    config = environ.Env.db_url_config(url)
    assert config["ENGINE"] == "django.db.backends.postgresql"
    return psycopg2.connect(host=config["HOST"], user=config["USER"], dbname=config["NAME"])


@pytest.fixture
def directory(tmp_path):
    path = tmp_path / "postgres"
    yield path
    embedded("stop", path)


def test_the_embedded_database_starts_keeps_its_data_between_runs_and_stops(directory):
    url = embedded("start", directory)
    assert url.startswith("postgres://postgres@/") and url.endswith("/peersupport")
    with connect(url) as connection, connection.cursor() as cursor:
        cursor.execute("CREATE TABLE kept (note text); INSERT INTO kept VALUES ('still here')")
    connection.close()
    assert embedded("start", directory) == url  # already running: the same server

    embedded("stop", directory)
    assert not (directory / "postmaster.pid").exists()
    with pytest.raises(psycopg2.OperationalError, match=r"No such file|could not connect"):
        connect(url)

    assert embedded("start", directory) == url
    with connect(url) as connection, connection.cursor() as cursor:
        cursor.execute("SELECT note FROM kept")
        assert cursor.fetchall() == [("still here",)]
    connection.close()


def test_the_settings_default_is_the_embedded_database_under_var():
    from config.settings import base

    config = environ.Env.db_url_config(base.EMBEDDED_DATABASE_URL)
    assert (config["HOST"], config["NAME"]) == (str(base.VAR_DIR / "postgres"), "peersupport")
