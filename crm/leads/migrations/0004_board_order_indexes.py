# The pipeline board orders a column by (rank, id): new leads all have rank 0 and keep it until someone drags
# them, so in real data most of a column ties on rank. With only (stage, rank) indexed, the first page of a
# column had to fetch and sort every tied card (160 ms for a 290,000-card column at 1M leads); with id in
# the index it is a range scan (0.1 ms), and keyset pages and neighbour look-ups stay range scans inside a
# tie. Raw SQL here; migration 0005 adds them to the model state (Lead.Meta.indexes) in place of
# lead_stage_rank and lead_owner_stage_rank, of which they are supersets.
from django.db import migrations

BOARD_INDEXES = {
    "lead_board_order": "leads_lead (stage_id, rank, id)",
    "lead_board_owner_order": "leads_lead (assigned_to_id, stage_id, rank, id)",
}


class Migration(migrations.Migration):
    dependencies = [
        ("leads", "0003_list_indexes"),
    ]

    operations = [
        migrations.RunSQL(sql=f"CREATE INDEX IF NOT EXISTS {name} ON {target}", reverse_sql=f"DROP INDEX IF EXISTS {name}")
        for name, target in BOARD_INDEXES.items()
    ]
