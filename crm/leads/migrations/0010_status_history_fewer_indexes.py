"""The status history's own indexes on lead, to_stage and by duplicated the first column of its composite
indexes (statuschange_lead, statuschange_to_stage, statuschange_by); every status change paid for them."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('leads', '0009_owner_history_triggers'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AlterField(
            model_name='statuschange',
            name='by',
            field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL),
        ),
        migrations.AlterField(
            model_name='statuschange',
            name='lead',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='status_changes', to='leads.lead'),
        ),
        migrations.AlterField(
            model_name='statuschange',
            name='to_stage',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='leads.stage'),
        ),
    ]
