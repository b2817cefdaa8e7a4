"""The benchmark databases: server connections and drop-and-create, for every bench script.

Call after django.setup(), with DATABASE_URL naming the benchmark database.
"""

import psycopg2
from django.conf import settings
from django.db import connection


def server_connection():
    """An autocommit connection to the server's maintenance database."""
    db = settings.DATABASES["default"]
    conn = psycopg2.connect(
        dbname="postgres",
        user=db["USER"],
        password=db["PASSWORD"] or None,
        host=db["HOST"],
        port=db["PORT"] or 5432,
    )
    conn.autocommit = True
    return conn


def database_exists(name: str) -> bool:
    server = server_connection()
    try:
        with server.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
            return cursor.fetchone() is not None
    finally:
        server.close()


def recreate(name: str) -> None:
    """Drop and create the database, refusing any whose name does not end in _bench."""
    if not name.endswith("_bench"):
        raise SystemExit(f"Refusing to recreate {name!r}: the name must end in _bench.")
    connection.close()
    server = server_connection()
    try:
        with server.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            cursor.execute(f'CREATE DATABASE "{name}"')
    finally:
        server.close()
