"""The history's (to_user, lead) index also carries `at` (PostgreSQL: INCLUDE), so "leads newly assigned to
me" reads the few recent rows from the index alone instead of every lead a big owner holds. The new index is
built before the old one goes, so owner-scoped queries always have one."""

from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('assignment', '0005_owner_outside_lead_indexes'),
        ('leads', '0010_status_history_fewer_indexes'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddIndex(
            model_name='assignment',
            index=models.Index(fields=['to_user', 'lead'], include=('at',), name='assignment_owner_at'),
        ),
        migrations.RemoveIndex(
            model_name='assignment',
            name='assignment_owner',
        ),
    ]
