from django.db import migrations

from delegated_authority.catalogue import ensure_catalogue


def seed(apps, schema_editor):
    ensure_catalogue(apps.get_model("delegated_authority", "Decision"))


class Migration(migrations.Migration):
    dependencies = [("delegated_authority", "0001_initial")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
