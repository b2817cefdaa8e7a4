from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from groups.demo import seed_groups
from members.demo import DEMO_PASSWORD, seed_people
from sessions.demo import seed_meetings


class Command(BaseCommand):
    help = "Create (or top up) a realistic demo programme. Safe to run again."

    def handle(self, *args, **options):
        if not settings.DEMO_DATA_ALLOWED:
            raise CommandError("Demo data is refused with these settings (production?).")
        with transaction.atomic():
            people = seed_people()
            seed_groups(people)
            seed_meetings(people)
        self.stdout.write(self.style.SUCCESS("Demo data ready. Sign in with:"))
        for role in ("member", "facilitator", "coordinator"):
            self.stdout.write(f"  {role:<12} {role}@example.org / {DEMO_PASSWORD}")
