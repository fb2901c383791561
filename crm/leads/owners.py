"""Whose leads: the one way to filter leads by owner.

The lead table has no index on its owner (changing an owner must write no index entry: migration
leads 0008), so the filter is written for the owner's size, which the stage tally knows exactly:

- An owner holding a small share of the leads (fewer than one in SMALL_SHARE) is found through the
  assignment history, whose (to_user, lead) index lists every lead ever given to them: the planner reads
  those few leads by their ids. Every change of owner, from any path, writes such a row (crm.assignment);
  the lead's own assigned_to then keeps only the leads they still hold.
- A bigger owner is a plain `assigned_to = X`. The column's statistics are exact (there are few owners),
  so the planner walks the index of the page's sort and keeps every SMALL_SHARE-th row or better, instead
  of probing tens of thousands of leads by id.

Both forms select the same leads; only the plan differs, so the choice may be a little out of date: each
process keeps it for DECIDED_SECONDS.
"""

import time

from django.db.models import Q, QuerySet, Sum

SMALL_SHARE = 200  # below 1/200 (0.5%) of all leads an owner's leads are read by id
SMALL_OWNER = 500  # an owner with fewer leads than this is read by id whatever the table's size
DECIDED_SECONDS = 60
_decided: dict[int, tuple[float, bool]] = {}


def owner_is_small(owner_id: int) -> bool:
    """Whether `owner_id` holds few enough leads to read them by id (one small sum over the stage tally)."""
    now = time.monotonic()
    known = _decided.get(owner_id)
    if known and known[0] > now:
        return known[1]
    small = _owner_is_small(owner_id)
    _decided[owner_id] = (now + DECIDED_SECONDS, small)
    return small


def _owner_is_small(owner_id: int) -> bool:
    from .models import StageTally

    totals = StageTally.objects.order_by().aggregate(
        mine=Sum("leads", filter=Q(owner_key=owner_id), default=0), everyone=Sum("leads", default=0)
    )
    mine, everyone = totals["mine"], totals["everyone"]
    return mine < SMALL_OWNER or mine * SMALL_SHARE < everyone


def _owner_id(owner) -> int:
    return int(getattr(owner, "pk", owner))


def owned_by(leads: QuerySet, owner) -> QuerySet:
    """`leads` held by `owner` (a user or a user id)."""
    from crm.assignment.models import Assignment

    owner_id = _owner_id(owner)
    leads = leads.filter(assigned_to_id=owner_id)
    if owner_is_small(owner_id):
        leads = leads.filter(pk__in=Assignment.objects.filter(to_user_id=owner_id).values("lead_id"))
    return leads


def owned_since(leads: QuerySet, owner, since) -> QuerySet:
    """`leads` held by `owner` that were given to them after `since`. The history's (to_user, lead) index
    carries `at`: the few leads given to the owner since then are found there, whatever the owner's size.
    (An owner's lead always has a history row to them at or after its assigned_at.)"""
    from crm.assignment.models import Assignment

    owner_id = _owner_id(owner)
    given = Assignment.objects.filter(to_user_id=owner_id, at__gt=since).values("lead_id")
    return leads.filter(assigned_to_id=owner_id, assigned_at__gt=since, pk__in=given)
