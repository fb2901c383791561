"""Take the owner out of every index of the lead table, so that changing a lead's owner is a HOT update.

An UPDATE that changes no indexed column, and finds room on the row's own page, writes no index entry at
all (PostgreSQL's heap-only tuples). A bulk assignment of 50,000 leads used to write an entry into each of
the table's 29 indexes for every lead (8-10 s); now it writes none. So:
- the six indexes that held assigned_to or assigned_at go; owner-scoped reads find a counsellor's leads
  through the assignment history's (to_user, lead) index instead (crm.leads.owners, assignment 0005);
- on PostgreSQL the table keeps 20% of each page free for the new row versions (fillfactor 80). Only pages
  written from now on get the room: on an existing large database run `VACUUM FULL leads_lead` (it rewrites
  the table, locking it for about a minute per million leads) once after migrating;
- the owner loses its database foreign key, whose check cost ~5 µs per changed lead (see the model).
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


def keep_room_for_hot_updates(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ALTER TABLE leads_lead SET (fillfactor = 80)")


def fill_pages(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ALTER TABLE leads_lead RESET (fillfactor)")


def drop_owner_last_contact(apps, schema_editor):
    schema_editor.execute("DROP INDEX IF EXISTS lead_owner_last_contact")  # made by 0003, outside the model state


def create_owner_last_contact(apps, schema_editor):
    desc = "DESC NULLS LAST" if schema_editor.connection.vendor == "postgresql" else "DESC"
    schema_editor.execute(
        f"CREATE INDEX IF NOT EXISTS lead_owner_last_contact ON leads_lead (assigned_to_id, last_contacted_at {desc}, id DESC)"
    )


def drop_owner_constraint(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        with schema_editor.connection.cursor() as cursor:
            cursor.execute(
                "SELECT c.conname FROM pg_constraint c JOIN pg_attribute a ON a.attrelid = c.conrelid "
                "AND a.attnum = ANY(c.conkey) WHERE c.contype = 'f' AND c.conrelid = 'leads_lead'::regclass "
                "AND a.attname = 'assigned_to_id'"
            )
            names = [row[0] for row in cursor.fetchall()]
        for name in names:
            schema_editor.execute(f'ALTER TABLE leads_lead DROP CONSTRAINT "{name}"')


def add_owner_constraint(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        users = apps.get_model(settings.AUTH_USER_MODEL)._meta.db_table
        schema_editor.execute(
            "ALTER TABLE leads_lead ADD CONSTRAINT leads_lead_assigned_to_id_fk FOREIGN KEY (assigned_to_id) "
            f'REFERENCES "{users}" (id) DEFERRABLE INITIALLY DEFERRED'
        )


class Migration(migrations.Migration):
    dependencies = [("leads", "0007_stage_tally"), migrations.swappable_dependency(settings.AUTH_USER_MODEL)]

    operations = [
        migrations.RemoveIndex(model_name="lead", name="lead_owner_updated"),
        migrations.RemoveIndex(model_name="lead", name="lead_owner_stage"),
        migrations.RemoveIndex(model_name="lead", name="lead_owner_follow_up"),
        migrations.RemoveIndex(model_name="lead", name="lead_owner_assigned"),
        migrations.RemoveIndex(model_name="lead", name="lead_board_owner_order"),
        migrations.RunPython(drop_owner_last_contact, create_owner_last_contact),
        migrations.RunPython(keep_room_for_hot_updates, fill_pages),
        # On PostgreSQL only: SQLite would rebuild the table to drop the constraint, and with it the stage
        # tally's triggers (0007); its constraint check costs next to nothing there.
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="lead",
                    name="assigned_to",
                    field=models.ForeignKey(
                        blank=True, db_constraint=False, db_index=False, null=True,
                        on_delete=django.db.models.deletion.SET_NULL, related_name="assigned_leads",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            database_operations=[migrations.RunPython(drop_owner_constraint, add_owner_constraint)],
        ),
    ]
