"""The stage tally also counts the leads contacted at least once (last_contacted_at set), per (owner, stage),
so that "contacted" on the dashboards is summed from the tally like the stage counts instead of counting a
counsellor's tens of thousands of leads. The triggers of migration 0007 are replaced by ones that carry the
new column; the existing contacted leads are added as delta rows, with the lead table locked against writers
on PostgreSQL meanwhile."""

from importlib import import_module

from django.db import migrations, models

first = import_module("crm.leads.migrations.0007_stage_tally")

DELTA = "(owner_key, stage_id, leads, value, contacted)"

POSTGRESQL = f"""
CREATE OR REPLACE FUNCTION leads_tally_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO leads_stagetally {DELTA}
    SELECT COALESCE(assigned_to_id, 0), stage_id, COUNT(*), COALESCE(SUM(value), 0), COUNT(last_contacted_at)
    FROM tally_new GROUP BY 1, 2;
    RETURN NULL;
END $$;
--
CREATE OR REPLACE FUNCTION leads_tally_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO leads_stagetally {DELTA}
    SELECT owner_key, stage_id, SUM(leads), SUM(value), SUM(contacted) FROM (
        SELECT COALESCE(assigned_to_id, 0) AS owner_key, stage_id, -1 AS leads, -COALESCE(value, 0) AS value,
               -(last_contacted_at IS NOT NULL)::int AS contacted
        FROM tally_old
        UNION ALL
        SELECT COALESCE(assigned_to_id, 0), stage_id, 1, COALESCE(value, 0), (last_contacted_at IS NOT NULL)::int
        FROM tally_new
    ) AS delta GROUP BY 1, 2 HAVING SUM(leads) <> 0 OR SUM(value) <> 0 OR SUM(contacted) <> 0;
    RETURN NULL;
END $$;
--
CREATE OR REPLACE FUNCTION leads_tally_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO leads_stagetally {DELTA}
    SELECT COALESCE(assigned_to_id, 0), stage_id, -COUNT(*), -COALESCE(SUM(value), 0), -COUNT(last_contacted_at)
    FROM tally_old GROUP BY 1, 2;
    RETURN NULL;
END $$;
"""

SQLITE = [
    f"""CREATE TRIGGER leads_tally_insert AFTER INSERT ON leads_lead BEGIN
        INSERT INTO leads_stagetally {DELTA}
        VALUES (COALESCE(NEW.assigned_to_id, 0), NEW.stage_id, 1, COALESCE(NEW.value, 0),
                NEW.last_contacted_at IS NOT NULL);
    END""",
    f"""CREATE TRIGGER leads_tally_update AFTER UPDATE OF assigned_to_id, stage_id, value, last_contacted_at ON leads_lead
    WHEN OLD.assigned_to_id IS NOT NEW.assigned_to_id OR OLD.stage_id IS NOT NEW.stage_id
        OR OLD.value IS NOT NEW.value OR (OLD.last_contacted_at IS NULL) IS NOT (NEW.last_contacted_at IS NULL) BEGIN
        INSERT INTO leads_stagetally {DELTA}
        VALUES (COALESCE(OLD.assigned_to_id, 0), OLD.stage_id, -1, -COALESCE(OLD.value, 0),
                -(OLD.last_contacted_at IS NOT NULL)),
               (COALESCE(NEW.assigned_to_id, 0), NEW.stage_id, 1, COALESCE(NEW.value, 0),
                NEW.last_contacted_at IS NOT NULL);
    END""",
    f"""CREATE TRIGGER leads_tally_delete AFTER DELETE ON leads_lead BEGIN
        INSERT INTO leads_stagetally {DELTA}
        VALUES (COALESCE(OLD.assigned_to_id, 0), OLD.stage_id, -1, -COALESCE(OLD.value, 0),
                -(OLD.last_contacted_at IS NOT NULL));
    END""",
]

FILL = f"""INSERT INTO leads_stagetally {DELTA}
SELECT COALESCE(assigned_to_id, 0), stage_id, 0, 0, COUNT(*) FROM leads_lead WHERE last_contacted_at IS NOT NULL
GROUP BY 1, 2"""


def _sqlite(schema_editor) -> bool:
    vendor = schema_editor.connection.vendor
    if vendor not in ("postgresql", "sqlite"):
        raise NotImplementedError(f"The stage tally has triggers for PostgreSQL and SQLite, not {vendor}.")
    return vendor == "sqlite"


def drop_sqlite_triggers(apps, schema_editor):
    """SQLite rebuilds the tally table to add the column, and refuses while triggers name the table."""
    if _sqlite(schema_editor):
        for statement in first.SQLITE_DROP:
            schema_editor.execute(statement)


def create_first_sqlite_triggers(apps, schema_editor):
    if _sqlite(schema_editor):
        for statement in first.SQLITE:
            schema_editor.execute(statement)


def count_contacted(apps, schema_editor):
    if _sqlite(schema_editor):
        for statement in SQLITE:
            schema_editor.execute(statement)
    else:
        # No lead may change between the triggers changing and the fill.
        schema_editor.execute("LOCK TABLE leads_lead IN SHARE ROW EXCLUSIVE MODE")
        for statement in POSTGRESQL.split("\n--\n"):
            schema_editor.execute(statement)
    schema_editor.execute(FILL)


def count_leads_only(apps, schema_editor):
    """Back to migration 0007's trigger functions (PostgreSQL); SQLite's triggers are dropped here and made
    again once the column is gone (drop_sqlite_triggers, reversed)."""
    if _sqlite(schema_editor):
        drop_sqlite_triggers(apps, schema_editor)
        return
    for statement in first.POSTGRESQL.split("\n--\n"):
        if "CREATE FUNCTION leads_tally_" in statement and "truncate" not in statement:
            schema_editor.execute(statement.replace("CREATE FUNCTION", "CREATE OR REPLACE FUNCTION"))


class Migration(migrations.Migration):
    dependencies = [("leads", "0010_status_history_fewer_indexes")]

    operations = [
        migrations.RunPython(drop_sqlite_triggers, create_first_sqlite_triggers),
        migrations.AddField(model_name="stagetally", name="contacted", field=models.BigIntegerField(db_default=0)),
        migrations.RunPython(count_contacted, count_leads_only),
    ]
