"""Bulk stage change as an undoable batch. The stage change itself is the leads app's
leads_bulk_change_status (each moved lead gets its StatusChange); this records what each lead left."""

from collections import Counter

from django.db import connection, transaction
from django.utils import timezone

from crm.assignment.models import AssignmentBatch, Method, StageMove
from crm.core.sql import chunked, ids_sql
from crm.leads.models import Lead, Stage
from crm.leads.services import leads_bulk_change_status

from ._sql import lock_leads
from .common import as_id_list, start_batch


def _record_moves(ids, *, batch_id) -> None:
    """StageMove rows (the stage each lead leaves, the version the change gives it), read from the rows."""
    lead_table = connection.ops.quote_name(Lead._meta.db_table)
    table = connection.ops.quote_name(StageMove._meta.db_table)
    for chunk in chunked(ids):
        where, params = ids_sql("id", chunk)
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {table} (batch_id, lead_id, from_stage_id, version) "  # noqa: S608
                f"SELECT %s, id, stage_id, version + 1 FROM {lead_table} WHERE {where} ORDER BY id",
                [batch_id, *params],
            )


@transaction.atomic
def leads_stage_change(*, lead_ids, stage, by, note: str = "", batch=None) -> AssignmentBatch:
    """Move the leads to `stage` (raises crm.leads.services.InvalidStage for an inactive stage)."""
    ids = as_id_list(lead_ids)
    now = timezone.now()
    rows = lock_leads(ids, fields=("pk", "stage_id"))
    moving = [pk for pk, stage_id in rows if stage_id != stage.pk]
    batch = start_batch(batch, by=by, method=Method.STAGE, at=now)
    _record_moves(moving, batch_id=batch.pk)
    moved = leads_bulk_change_status(lead_ids=moving, stage=stage, by=by, note=note)
    names = dict(Stage.objects.values_list("pk", "name"))
    left = Counter(stage_id for _pk, stage_id in rows if stage_id != stage.pk)
    batch.count = moved
    batch.summary = {
        "requested": len(ids),
        "changed": moved,
        "unchanged": len(rows) - len(moving),
        "missing": len(ids) - len(rows),
        "stage": {"id": stage.pk, "name": stage.name},
        "from_stages": [{"name": names.get(pk, "?"), "count": n} for pk, n in left.most_common()],
        "stale": {"count": 0, "leads": []},
    }
    batch.save(update_fields=["count", "summary"])
    return batch
