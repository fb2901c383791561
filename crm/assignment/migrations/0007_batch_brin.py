"""The history's batch index becomes a BRIN index on PostgreSQL (crm.core.models.BrinIndex): a bulk action's
50,000 rows are written together, so one summary per 128 pages finds them, and the action no longer writes a
btree entry per row. The new index is built before the old one goes."""

import crm.core.models
from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('assignment', '0006_owner_index_carries_at'),
    ]

    operations = [
        migrations.AddIndex(
            model_name='assignment',
            index=crm.core.models.BrinIndex(fields=['batch'], name='assignment_batch_brin'),
        ),
        migrations.RemoveIndex(
            model_name='assignment',
            name='assignment_batch',
        ),
    ]
