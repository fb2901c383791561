"""Owner-scoped lead queries go through the history: (to_user, lead) replaces (to_user, -at) (leads 0008);
"other" is the method of owner changes the database records itself (leads 0009); the foreign keys lose their
database constraints (see the model)."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('assignment', '0004_queued_batches'),
        ('leads', '0008_owner_outside_lead_indexes'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name='assignment',
            name='assignment_to_user',
        ),
        migrations.AlterField(
            model_name='assignment',
            name='batch',
            field=models.ForeignKey(blank=True, db_constraint=False, db_index=False, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='assignments', to='assignment.assignmentbatch'),
        ),
        migrations.AlterField(
            model_name='assignment',
            name='by',
            field=models.ForeignKey(blank=True, db_constraint=False, db_index=False, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL),
        ),
        migrations.AlterField(
            model_name='assignment',
            name='from_user',
            field=models.ForeignKey(blank=True, db_constraint=False, db_index=False, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL),
        ),
        migrations.AlterField(
            model_name='assignment',
            name='lead',
            field=models.ForeignKey(db_constraint=False, db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='assignments', to='leads.lead'),
        ),
        migrations.AlterField(
            model_name='assignment',
            name='method',
            field=models.CharField(choices=[('manual', 'Lead page'), ('bulk', 'Bulk assign'), ('distribute', 'Balanced distribution'), ('next_n', 'Next N unassigned'), ('unassign', 'Bulk unassign'), ('stage', 'Bulk stage change'), ('import', 'Import'), ('undo', 'Undo'), ('other', 'Other change')], max_length=12),
        ),
        migrations.AlterField(
            model_name='assignment',
            name='to_user',
            field=models.ForeignKey(blank=True, db_constraint=False, db_index=False, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL),
        ),
        migrations.AlterField(
            model_name='assignmentbatch',
            name='method',
            field=models.CharField(choices=[('manual', 'Lead page'), ('bulk', 'Bulk assign'), ('distribute', 'Balanced distribution'), ('next_n', 'Next N unassigned'), ('unassign', 'Bulk unassign'), ('stage', 'Bulk stage change'), ('import', 'Import'), ('undo', 'Undo'), ('other', 'Other change')], max_length=12),
        ),
        migrations.AddIndex(
            model_name='assignment',
            index=models.Index(fields=['to_user', 'lead'], name='assignment_owner'),
        ),
    ]
