"""Recount the reporting tables from their sources, for recovery.

    python manage.py rebuild_report_tables

Triggers keep the tables exact on every write; this is for a database restored without
them, rows loaded with triggers disabled (session_replication_role = replica), or doubt.
"""

import time

from django.core.management.base import BaseCommand

from outcomes.services import report_tables_rebuild


class Command(BaseCommand):
    help = "Recount the reports' tables from meetings, attendance and RSVPs ."

    def handle(self, *args, **options):
        started = time.monotonic()
        counts = report_tables_rebuild()
        for table, rows in counts.items():
            self.stdout.write(f"{table:<28} {rows:>12,} rows")
        self.stdout.write(self.style.SUCCESS(f"Rebuilt in {time.monotonic() - started:.1f} s."))
