"""Writes of the outcomes app: only the recovery of the reporting tables (PostgreSQL
triggers keep them otherwise; see outcomes.models)."""

from django.db import connection, transaction

REPORT_TABLES = ("outcomes_meeting_tally", "outcomes_attended_day", "outcomes_group_attendee")


def report_tables_rebuild() -> dict[str, int]:
    """Recount every reporting table from meetings, attendance and RSVPs, in one
    transaction (writers to those wait meanwhile); returns the rows in each table."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT outcomes_rebuild_report_tables()")
        counts = {}
        for table in REPORT_TABLES:  # names from the constant above
            cursor.execute(f"ANALYZE {table}")
            cursor.execute(f"SELECT count(*) FROM {table}")  # noqa: S608
            counts[table] = cursor.fetchone()[0]
    return counts
