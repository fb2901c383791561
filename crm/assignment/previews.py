"""What a bulk action will do, computed without writing anything (the preview page shows it)."""

from collections import Counter

from django.db.models import Max, Min

from crm.core.sql import IdIn
from crm.leads.models import Lead, Stage

from .selectors import user_name_map
from .services import next_unassigned, open_workloads, plan_distribution


def _owner_rows(counter: Counter) -> list[dict]:
    users = user_name_map(counter)
    rows = [{"name": str(users[pk]) if pk in users else "Unassigned", "count": n, "unassigned": pk is None}
            for pk, n in counter.items()]
    return sorted(rows, key=lambda row: (-row["count"], row["name"]))


def _target_load(user, adding: int) -> dict:
    open_now = open_workloads([user.pk])[user.pk]
    return {
        "open_now": open_now,
        "capacity": user.capacity,
        "over_capacity": user.capacity is not None and open_now + adding > user.capacity,
        "on_leave": not user.is_available,
    }


def bulk_preview_data(cleaned: dict, rows: list[tuple]) -> dict:
    """rows: (pk, owner id, stage id) of the selected leads."""
    action = cleaned["action"]
    owners = Counter(row[1] for row in rows)
    preview = {"count": len(rows), "current_owners": _owner_rows(owners)}
    if action == "assign":
        target = cleaned["to_user"]
        moving = len(rows) - owners[target.pk]
        preview.update(to=target, moving=moving, already=owners[target.pk], **_target_load(target, moving))
    elif action == "distribute":
        plan = plan_distribution(rows, list(cleaned["counsellors"]) or None)
        moving = sum(row["moved"] for row in plan["per_user"])
        placed = sum(row["count"] for row in plan["per_user"])
        preview.update(
            per_user=plan["per_user"], skipped_users=plan["skipped_users"], left_unassigned=len(plan["left"]),
            moving=moving, already=placed - moving,
        )
    elif action == "unassign":
        preview.update(moving=len(rows) - owners[None], already=owners[None])
    else:
        stage = cleaned["stage"]
        stages = Counter(row[2] for row in rows)
        names = dict(Stage.objects.values_list("pk", "name"))
        preview.update(
            stage=stage, moving=len(rows) - stages[stage.pk], already=stages[stage.pk],
            from_stages=[{"name": names.get(pk, "?"), "count": n} for pk, n in stages.most_common() if pk != stage.pk],
        )
    return preview


def next_preview_data(cleaned: dict) -> dict:
    ids = next_unassigned(n=cleaned["n"], newest_first=cleaned["order"] == "newest")
    span = Lead.objects.filter(IdIn(ids)).aggregate(first=Min("created_at"), last=Max("created_at")) if ids else {}
    target = cleaned["to_user"]
    return {
        "n": cleaned["n"], "count": len(ids), "to": target, "newest_first": cleaned["order"] == "newest",
        "first_created": span.get("first"), "last_created": span.get("last"), **_target_load(target, len(ids)),
    }
