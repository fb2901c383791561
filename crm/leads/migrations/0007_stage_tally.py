"""The stage tally: leads and deal value per (owner, stage), kept by triggers on leads_lead.

PostgreSQL: statement-level triggers with transition tables, so a bulk UPDATE of 50,000 leads adds one
aggregated delta row per (owner, stage) it changed, not 100,000 rows. SQLite (no transition tables): row
triggers, only for changes of owner, stage or value. Either way the triggers only INSERT (no counter row to
fight over); crm.leads.tally sums and folds the rows. The table is filled from the leads as they are now.
"""

from django.db import migrations, models

DELTA = "(owner_key, stage_id, leads, value)"

POSTGRESQL = f"""
CREATE FUNCTION leads_tally_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO leads_stagetally {DELTA}
    SELECT COALESCE(assigned_to_id, 0), stage_id, COUNT(*), COALESCE(SUM(value), 0) FROM tally_new GROUP BY 1, 2;
    RETURN NULL;
END $$;
--
CREATE FUNCTION leads_tally_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO leads_stagetally {DELTA}
    SELECT owner_key, stage_id, SUM(leads), SUM(value) FROM (
        SELECT COALESCE(assigned_to_id, 0) AS owner_key, stage_id, -1 AS leads, -COALESCE(value, 0) AS value
        FROM tally_old
        UNION ALL
        SELECT COALESCE(assigned_to_id, 0), stage_id, 1, COALESCE(value, 0) FROM tally_new
    ) AS delta GROUP BY 1, 2 HAVING SUM(leads) <> 0 OR SUM(value) <> 0;
    RETURN NULL;
END $$;
--
CREATE FUNCTION leads_tally_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO leads_stagetally {DELTA}
    SELECT COALESCE(assigned_to_id, 0), stage_id, -COUNT(*), -COALESCE(SUM(value), 0) FROM tally_old GROUP BY 1, 2;
    RETURN NULL;
END $$;
--
CREATE FUNCTION leads_tally_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM leads_stagetally;
    RETURN NULL;
END $$;
--
CREATE TRIGGER leads_tally_insert AFTER INSERT ON leads_lead REFERENCING NEW TABLE AS tally_new
    FOR EACH STATEMENT EXECUTE FUNCTION leads_tally_insert();
--
CREATE TRIGGER leads_tally_update AFTER UPDATE ON leads_lead REFERENCING OLD TABLE AS tally_old NEW TABLE AS tally_new
    FOR EACH STATEMENT EXECUTE FUNCTION leads_tally_update();
--
CREATE TRIGGER leads_tally_delete AFTER DELETE ON leads_lead REFERENCING OLD TABLE AS tally_old
    FOR EACH STATEMENT EXECUTE FUNCTION leads_tally_delete();
--
CREATE TRIGGER leads_tally_truncate AFTER TRUNCATE ON leads_lead
    FOR EACH STATEMENT EXECUTE FUNCTION leads_tally_truncate();
"""
POSTGRESQL_DROP = [
    *(f"DROP TRIGGER IF EXISTS leads_tally_{event} ON leads_lead" for event in ("insert", "update", "delete", "truncate")),
    *(f"DROP FUNCTION IF EXISTS leads_tally_{event}()" for event in ("insert", "update", "delete", "truncate")),
]

SQLITE = [
    f"""CREATE TRIGGER leads_tally_insert AFTER INSERT ON leads_lead BEGIN
        INSERT INTO leads_stagetally {DELTA}
        VALUES (COALESCE(NEW.assigned_to_id, 0), NEW.stage_id, 1, COALESCE(NEW.value, 0));
    END""",
    f"""CREATE TRIGGER leads_tally_update AFTER UPDATE OF assigned_to_id, stage_id, value ON leads_lead
    WHEN OLD.assigned_to_id IS NOT NEW.assigned_to_id OR OLD.stage_id IS NOT NEW.stage_id
        OR OLD.value IS NOT NEW.value BEGIN
        INSERT INTO leads_stagetally {DELTA}
        VALUES (COALESCE(OLD.assigned_to_id, 0), OLD.stage_id, -1, -COALESCE(OLD.value, 0)),
               (COALESCE(NEW.assigned_to_id, 0), NEW.stage_id, 1, COALESCE(NEW.value, 0));
    END""",
    f"""CREATE TRIGGER leads_tally_delete AFTER DELETE ON leads_lead BEGIN
        INSERT INTO leads_stagetally {DELTA}
        VALUES (COALESCE(OLD.assigned_to_id, 0), OLD.stage_id, -1, -COALESCE(OLD.value, 0));
    END""",
]
SQLITE_DROP = ["DROP TRIGGER IF EXISTS leads_tally_insert", "DROP TRIGGER IF EXISTS leads_tally_update",
               "DROP TRIGGER IF EXISTS leads_tally_delete"]

FILL = f"""INSERT INTO leads_stagetally {DELTA}
SELECT COALESCE(assigned_to_id, 0), stage_id, COUNT(*), COALESCE(SUM(value), 0) FROM leads_lead GROUP BY 1, 2"""


def create_triggers(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        # No lead may change between the fill and the triggers taking over.
        schema_editor.execute("LOCK TABLE leads_lead IN SHARE ROW EXCLUSIVE MODE")
        for statement in POSTGRESQL.split("\n--\n"):
            if statement.strip():
                schema_editor.execute(statement)
    elif vendor == "sqlite":
        for statement in SQLITE:
            schema_editor.execute(statement)
    else:
        raise NotImplementedError(f"The stage tally has triggers for PostgreSQL and SQLite, not {vendor}.")
    schema_editor.execute(FILL)


def drop_triggers(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    for statement in POSTGRESQL_DROP if vendor == "postgresql" else SQLITE_DROP:
        schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [("leads", "0006_lead_autovacuum")]

    operations = [
        migrations.CreateModel(
            name="StageTally",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("owner_key", models.IntegerField()),
                ("stage_id", models.IntegerField()),
                ("leads", models.BigIntegerField()),
                ("value", models.DecimalField(decimal_places=2, max_digits=20)),
            ],
            options={
                "indexes": [models.Index(fields=["owner_key", "stage_id"], name="stagetally_owner_stage")],
            },
        ),
        migrations.RunPython(create_triggers, drop_triggers),
    ]
