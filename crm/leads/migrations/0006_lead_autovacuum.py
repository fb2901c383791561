"""PostgreSQL: vacuum the lead table after 2% of it changed instead of 20%.

The lead list reads its pages from indexes alone (index-only scans: crm.leads.listing). Those stay index-only
only while the table's visibility map is fresh, which is VACUUM's job; with the default 20% threshold, a
million-lead table would wait for 200,000 changed rows, so after a bulk assignment of 50,000 leads the
"recently updated first" pages would visit the table row by row until much later. Nothing happens on SQLite.
"""

from django.db import migrations

SETTINGS = ("autovacuum_vacuum_scale_factor = 0.02, autovacuum_analyze_scale_factor = 0.02, "
            "autovacuum_vacuum_insert_scale_factor = 0.02")


def tune(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"ALTER TABLE leads_lead SET ({SETTINGS})")


def untune(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ALTER TABLE leads_lead RESET (autovacuum_vacuum_scale_factor, "
                              "autovacuum_analyze_scale_factor, autovacuum_vacuum_insert_scale_factor)")


class Migration(migrations.Migration):
    dependencies = [("leads", "0005_fewer_lead_indexes")]

    operations = [migrations.RunPython(tune, untune)]
