"""Whose leads: the one way to filter leads by owner.

The lead table has no index on its owner (changing an owner must write no index entry: migration
leads 0008), so "the leads of counsellor X" are found through the assignment history, whose
(to_user, lead) index lists every lead ever given to X. Every change of owner, from any path, writes
such a row (crm.assignment); the lead's own assigned_to then keeps only the leads X still holds. The
planner picks per query: a small owner's few leads by their ids, or, for an owner holding many, the
lead table's sort index with an index-only probe of the history per row.
"""

from django.db.models import QuerySet


def owned_by(leads: QuerySet, owner) -> QuerySet:
    """`leads` held by `owner` (a user or a user id)."""
    from crm.assignment.models import Assignment

    owner_id = getattr(owner, "pk", owner)
    return leads.filter(assigned_to_id=owner_id, pk__in=Assignment.objects.filter(to_user_id=owner_id).values("lead_id"))

