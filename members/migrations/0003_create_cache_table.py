from django.core.management import call_command
from django.db import migrations


def create_cache_table(apps, schema_editor):
    """The embedded setup keeps its cache in the database; create it with the schema."""
    call_command("createcachetable", database=schema_editor.connection.alias, verbosity=0)


class Migration(migrations.Migration):
    dependencies = [("members", "0002_consent_and_audit")]

    operations = [migrations.RunPython(create_cache_table, migrations.RunPython.noop)]
