"""Every change of a lead's owner has its Assignment row, whatever made it.

Owner-scoped reads find a counsellor's leads through the history's (to_user, lead) index (crm.leads.owners),
so a lead whose current owner has no history row would be missing from that owner's pages. The assignment
services write their rows themselves (with who, how and the batch) right before their UPDATE; these triggers
write the rest:
- a lead inserted with an owner (a new lead given to someone, demo data): method "manual", by its creator,
  at its assigned_at;
- an owner changed by any other UPDATE (the admin, a script, a test): method "other", by nobody, at now,
  unless a row for exactly this change (the lead, its new owner, its new version) is already there. On
  PostgreSQL the services also say so for their whole statement (crm.assignment.services._sql.move_owners
  sets `crm.owner_history_written` around its UPDATE), which spares a bulk action 50,000 index probes.
PostgreSQL: statement-level triggers with transition tables (one INSERT ... SELECT per statement); SQLite:
row triggers.
"""

from django.db import migrations

COLUMNS = "(lead_id, from_user_id, to_user_id, by_id, at, method, batch_id, version, previous_assigned_at)"

POSTGRESQL = f"""
CREATE FUNCTION leads_owner_history_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO assignment_assignment {COLUMNS}
    SELECT id, NULL, assigned_to_id, created_by_id, COALESCE(assigned_at, statement_timestamp()), 'manual', NULL,
           version, NULL
    FROM owner_new WHERE assigned_to_id IS NOT NULL;
    RETURN NULL;
END $$;
--
CREATE FUNCTION leads_owner_history_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF current_setting('crm.owner_history_written', true) = 'on' THEN
        RETURN NULL;
    END IF;
    INSERT INTO assignment_assignment {COLUMNS}
    SELECT n.id, o.assigned_to_id, n.assigned_to_id, NULL, statement_timestamp(), 'other', NULL, n.version,
           o.assigned_at
    FROM owner_new n JOIN owner_old o ON o.id = n.id
    WHERE n.assigned_to_id IS DISTINCT FROM o.assigned_to_id
      AND NOT EXISTS (SELECT 1 FROM assignment_assignment a WHERE a.lead_id = n.id AND a.version = n.version
                      AND a.to_user_id IS NOT DISTINCT FROM n.assigned_to_id);
    RETURN NULL;
END $$;
--
CREATE TRIGGER leads_owner_history_insert AFTER INSERT ON leads_lead REFERENCING NEW TABLE AS owner_new
    FOR EACH STATEMENT EXECUTE FUNCTION leads_owner_history_insert();
--
CREATE TRIGGER leads_owner_history_update AFTER UPDATE ON leads_lead
    REFERENCING OLD TABLE AS owner_old NEW TABLE AS owner_new
    FOR EACH STATEMENT EXECUTE FUNCTION leads_owner_history_update();
"""
POSTGRESQL_DROP = [
    "DROP TRIGGER IF EXISTS leads_owner_history_insert ON leads_lead",
    "DROP TRIGGER IF EXISTS leads_owner_history_update ON leads_lead",
    "DROP FUNCTION IF EXISTS leads_owner_history_insert()",
    "DROP FUNCTION IF EXISTS leads_owner_history_update()",
]

NOW_SQLITE = "strftime('%Y-%m-%d %H:%M:%f', 'now')"
SQLITE = [
    f"""CREATE TRIGGER leads_owner_history_insert AFTER INSERT ON leads_lead
    WHEN NEW.assigned_to_id IS NOT NULL BEGIN
        INSERT INTO assignment_assignment {COLUMNS}
        VALUES (NEW.id, NULL, NEW.assigned_to_id, NEW.created_by_id, COALESCE(NEW.assigned_at, {NOW_SQLITE}),
                'manual', NULL, NEW.version, NULL);
    END""",
    f"""CREATE TRIGGER leads_owner_history_update AFTER UPDATE OF assigned_to_id ON leads_lead
    WHEN OLD.assigned_to_id IS NOT NEW.assigned_to_id AND NOT EXISTS (
        SELECT 1 FROM assignment_assignment a WHERE a.lead_id = NEW.id AND a.version = NEW.version
        AND a.to_user_id IS NEW.assigned_to_id) BEGIN
        INSERT INTO assignment_assignment {COLUMNS}
        VALUES (NEW.id, OLD.assigned_to_id, NEW.assigned_to_id, NULL, {NOW_SQLITE}, 'other', NULL, NEW.version,
                OLD.assigned_at);
    END""",
]
SQLITE_DROP = ["DROP TRIGGER IF EXISTS leads_owner_history_insert", "DROP TRIGGER IF EXISTS leads_owner_history_update"]

# Leads that hold an owner without a history row for it (none, if every path wrote one): give them one.
BACKFILL = f"""INSERT INTO assignment_assignment {COLUMNS}
SELECT l.id, NULL, l.assigned_to_id, NULL, COALESCE(l.assigned_at, l.updated_at), 'other', NULL, l.version, NULL
FROM leads_lead l WHERE l.assigned_to_id IS NOT NULL AND NOT EXISTS (
    SELECT 1 FROM assignment_assignment a WHERE a.to_user_id = l.assigned_to_id AND a.lead_id = l.id)"""


def create_triggers(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute("LOCK TABLE leads_lead IN SHARE ROW EXCLUSIVE MODE")
        for statement in POSTGRESQL.split("\n--\n"):
            if statement.strip():
                schema_editor.execute(statement)
    elif vendor == "sqlite":
        for statement in SQLITE:
            schema_editor.execute(statement)
    else:
        raise NotImplementedError(f"The owner history has triggers for PostgreSQL and SQLite, not {vendor}.")
    schema_editor.execute(BACKFILL)


def drop_triggers(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    for statement in POSTGRESQL_DROP if vendor == "postgresql" else SQLITE_DROP:
        schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [("leads", "0008_owner_outside_lead_indexes"), ("assignment", "0005_owner_outside_lead_indexes")]

    operations = [migrations.RunPython(create_triggers, drop_triggers)]
