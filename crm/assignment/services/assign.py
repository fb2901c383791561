"""Changing who owns leads: one lead, a set to one counsellor, a balanced distribution, the next N
unassigned, and bulk stage changes. Every owner change writes one Assignment row; sets are handled in a
few SQL statements inside one transaction: read, plan, then one statement that moves the leads still as
read (locking the rows in pk order first only when another writer got in between; _sql.locks_only_if_raced)."""

from collections import Counter

from django.db import connection, transaction
from django.utils import timezone

from crm.accounts.models import Role, User
from crm.accounts.selectors import counsellors as active_counsellors
from crm.assignment.models import AssignmentBatch, Method
from crm.assignment.planning import Seat, deal, order_seats, plan_quotas
from crm.core import nav_counts
from crm.leads.models import Lead

from ._sql import lock_leads, locks_only_if_raced, move_owners, read_leads
from .common import (
    AssignmentError,
    OwnerChanged,
    as_id_list,
    check_target,
    open_stage_ids,
    open_workloads,
    split_stale,
    stale_summary,
    start_batch,
    user_names,
)

UNSET = object()


def _fresh(pk) -> Lead:
    return Lead.objects.select_related("stage", "assigned_to", "company").get(pk=pk)


@transaction.atomic
def lead_assign(*, lead, to_user, by, method=Method.MANUAL, expected_owner=UNSET) -> Lead:
    """Give one lead to `to_user` (None: unassign). With `expected_owner` (the owner id the caller showed,
    None for unassigned) a lead whose owner changed meanwhile raises OwnerChanged and nothing changes."""
    check_target(to_user)
    rows = lock_leads([lead.pk])
    if not rows:
        raise AssignmentError("This lead no longer exists.")
    _pk, current, version = rows[0]
    if expected_owner is not UNSET and current != expected_owner:
        raise OwnerChanged(_fresh(lead.pk))
    target = to_user.pk if to_user else None
    if current != target:
        nav_counts.forget(current, target)
        move_owners({target: [lead.pk]}, {lead.pk: (current, version)}, by_id=by.pk if by else None,
                    at=timezone.now(), method=method, batch_id=None)
    return _fresh(lead.pk)


def _named_counts(counter: Counter) -> list[dict]:
    names = user_names(counter)
    rows = [{"id": pk, "name": names.get(pk, "Unassigned") if pk else "Unassigned", "count": n} for pk, n in counter.items()]
    return sorted(rows, key=lambda row: (-row["count"], row["name"]))


def _move(moves: dict, rows, *, by, method, batch, at) -> int:
    """Apply {to_user_id: [lead ids]} to the leads read as `rows` (pk, owner, ..., version), skipping leads
    already there."""
    current = {row[0]: (row[1], row[-1]) for row in rows}
    moving = {to_user_id: [pk for pk in pks if current[pk][0] != to_user_id] for to_user_id, pks in moves.items()}
    nav_counts.forget(*moving, *{owner for owner, _version in current.values()})
    return move_owners(moving, current, by_id=by.pk if by else None, at=at, method=method, batch_id=batch.pk)


def _finish(batch, summary) -> AssignmentBatch:
    batch.count = summary["changed"]
    batch.summary = summary
    batch.save(update_fields=["count", "summary"])
    return batch


@transaction.atomic
def leads_assign(*, lead_ids, to_user, by, method=Method.BULK, expected_owners=None, batch=None) -> AssignmentBatch:
    """Give every lead in `lead_ids` to `to_user` (None: unassign them).

    `expected_owners` ({lead id: owner id or None}, what the caller's preview showed): leads whose owner
    changed since are left alone and listed in summary["stale"].
    """
    check_target(to_user)
    ids = as_id_list(lead_ids)
    return locks_only_if_raced(
        lambda lock: _assign(ids, to_user, by=by, method=method, expected_owners=expected_owners, batch=batch, lock=lock)
    )


def _assign(ids, to_user, *, by, method, expected_owners, batch, lock) -> AssignmentBatch:
    now = timezone.now()
    rows = read_leads(ids, lock=lock)
    fresh, stale = split_stale(rows, expected_owners)
    owners = {pk: owner for pk, owner, _version in fresh}
    target = to_user.pk if to_user else None
    batch = start_batch(batch, by=by, method=method, at=now)
    taken_from = Counter(owner for owner in owners.values() if owner != target)
    changed = _move({target: list(owners)}, fresh, by=by, method=method, batch=batch, at=now)
    summary = {
        "requested": len(ids),
        "changed": changed,
        "unchanged": len(owners) - changed,
        "missing": len(ids) - len(rows),
        "to": {"id": target, "name": str(to_user)} if to_user else None,
        "per_user": [{"id": target, "name": str(to_user), "count": changed}] if to_user else [],
        "taken_from": _named_counts(taken_from),
        "stale": stale_summary(stale),
    }
    return _finish(batch, summary)


def leads_unassign(*, lead_ids, by, expected_owners=None, batch=None) -> AssignmentBatch:
    return leads_assign(lead_ids=lead_ids, to_user=None, by=by, method=Method.UNASSIGN, expected_owners=expected_owners,
                        batch=batch)


def eligible_seats(counsellors, rows) -> tuple[list[Seat], list[dict], dict[int, User]]:
    """Seats for a distribution of `rows` (pk, owner, stage id) among `counsellors` (users or ids; None:
    every available counsellor). Inactive, on-leave and non-sales users are skipped, with the reason."""
    if counsellors is None:
        users = list(active_counsellors(available_only=True))
    else:
        wanted = {getattr(user, "pk", user) for user in counsellors}
        users = list(User.objects.filter(pk__in=wanted).order_by("pk"))
    eligible, skipped = [], []
    for user in users:
        reason = None
        if not user.is_active:
            reason = "inactive"
        elif user.role != Role.SALES:
            reason = "not a sales user"
        elif not user.is_available:
            reason = "on leave"
        if reason:
            skipped.append({"id": user.pk, "name": str(user), "reason": reason})
        else:
            eligible.append(user)
    workloads = open_workloads(user.pk for user in eligible)
    open_ids = set(open_stage_ids())
    for _pk, owner, stage_id, *_ in rows:  # the leads being distributed do not count as their current load
        if owner in workloads and stage_id in open_ids:
            workloads[owner] -= 1
    seats = [Seat(user.pk, workloads[user.pk], user.capacity) for user in eligible]
    return seats, skipped, {user.pk: user for user in eligible}


def plan_distribution(rows, counsellors=None) -> dict:
    """The whole plan for distributing `rows` (pk, owner, stage id, ...): who gets which leads, what is left."""
    seats, skipped, users = eligible_seats(counsellors, rows)
    quotas, _ = plan_quotas(len(rows), seats)
    owners = {row[0]: row[1] for row in rows}
    dealt, left = deal([row[0] for row in rows], seats, quotas, owners)
    per_user = []
    for seat in order_seats(seats):
        pks = dealt.get(seat.user_id, [])
        per_user.append({
            "id": seat.user_id, "name": str(users[seat.user_id]), "count": len(pks),
            "moved": sum(1 for pk in pks if owners[pk] != seat.user_id),
            "open_before": seat.open_leads, "capacity": seat.capacity, "full": seat.room == 0,
        })
    return {"dealt": dealt, "left": left, "per_user": per_user, "skipped_users": skipped, "owners": owners}


@transaction.atomic
def leads_distribute(*, lead_ids, by, counsellors=None, method=Method.DISTRIBUTE, expected_owners=None,
                     batch=None) -> AssignmentBatch:
    """Share the leads evenly across `counsellors` (default: every available counsellor); see planning.py.
    Leads that cannot be placed (everyone at capacity) keep their owner (unassigned ones stay unassigned);
    summary["left_unassigned"] says how many."""
    ids = as_id_list(lead_ids)
    return locks_only_if_raced(
        lambda lock: _distribute(ids, by=by, counsellors=counsellors, method=method, expected_owners=expected_owners,
                                 batch=batch, lock=lock)
    )


def _distribute(ids, *, by, counsellors, method, expected_owners, batch, lock) -> AssignmentBatch:
    now = timezone.now()
    rows = read_leads(ids, fields=("pk", "assigned_to_id", "stage_id", "version"), lock=lock)
    fresh, stale = split_stale(rows, expected_owners)
    plan = plan_distribution(fresh, counsellors)
    batch = start_batch(batch, by=by, method=method, at=now)
    changed = _move(plan["dealt"], fresh, by=by, method=method, batch=batch, at=now)
    summary = {
        "requested": len(ids),
        "changed": changed,
        "unchanged": len(fresh) - len(plan["left"]) - changed,
        "missing": len(ids) - len(rows),
        "per_user": plan["per_user"],
        "skipped_users": plan["skipped_users"],
        "left_unassigned": len(plan["left"]),
        "stale": stale_summary(stale),
    }
    return _finish(batch, summary)


def next_unassigned(*, n: int, newest_first: bool = False, lock: bool = False) -> list[int]:
    """Ids of the next `n` unassigned leads, oldest (or newest) first. With `lock` (inside a transaction,
    on PostgreSQL) rows another manager is taking right now are skipped, so two managers get different leads."""
    order = ("-created_at", "-pk") if newest_first else ("created_at", "pk")
    leads = Lead.objects.filter(assigned_to__isnull=True).order_by(*order)
    if lock and connection.features.has_select_for_update_skip_locked:
        leads = leads.select_for_update(skip_locked=True)
    return list(leads.values_list("pk", flat=True)[:n])


@transaction.atomic
def leads_assign_next(*, to_user, n: int, by, newest_first: bool = False, batch=None) -> AssignmentBatch:
    """Give the next `n` unassigned leads (oldest first, or newest first) to `to_user`."""
    if to_user is None:
        raise AssignmentError("Choose the counsellor who gets the leads.")
    check_target(to_user)
    if n < 1:
        raise AssignmentError("Choose how many leads (1 or more).")
    ids = next_unassigned(n=n, newest_first=newest_first, lock=True)
    batch = leads_assign(lead_ids=ids, to_user=to_user, by=by, method=Method.NEXT_N, batch=batch)
    batch.summary.update({"n": n, "newest_first": newest_first, "requested": n, "available": len(ids)})
    batch.save(update_fields=["summary"])
    return batch
