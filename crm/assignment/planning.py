"""Balanced distribution, as pure functions (no database): the services apply a plan, the preview shows it.

Rules (issue 4): within one batch the counts per counsellor differ by at most one; the counsellors with
fewer open leads get the extra ones; nobody goes above their capacity (those at capacity get fewer, and
what cannot be placed stays unassigned); the same input always gives the same plan (ties break by user id).
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class Seat:
    user_id: int
    open_leads: int  # open leads the counsellor holds, not counting the leads being distributed
    capacity: int | None = None  # most open leads they may hold; None for no limit

    @property
    def room(self) -> int | None:
        return None if self.capacity is None else max(0, self.capacity - self.open_leads)


def order_seats(seats) -> list[Seat]:
    """Fewest open leads first; the user id breaks ties."""
    return sorted(seats, key=lambda seat: (seat.open_leads, seat.user_id))


def plan_quotas(total: int, seats) -> tuple[dict[int, int], int]:
    """How many of `total` leads each seat gets, and how many are left over (everyone at capacity)."""
    ordered = order_seats(seats)
    quotas = {seat.user_id: 0 for seat in ordered}
    active = [seat for seat in ordered if seat.room is None or seat.room > 0]
    remaining = total
    while remaining and active:
        base, extra = divmod(remaining, len(active))
        capped = [
            seat for index, seat in enumerate(active)
            if seat.room is not None and seat.room < base + (1 if index < extra else 0)
        ]
        if not capped:
            for index, seat in enumerate(active):
                quotas[seat.user_id] = base + (1 if index < extra else 0)
            remaining = 0
            break
        # Those who cannot take an equal share take what they have room for; share the rest again.
        for seat in capped:
            quotas[seat.user_id] = seat.room
            remaining -= seat.room
        active = [seat for seat in active if seat not in capped]
    return quotas, remaining


def deal(lead_ids, seats, quotas: dict[int, int], owners: dict | None = None):
    """Share the leads out by the quotas. A lead stays with its current owner when that owner is one of the
    seats with quota left (no pointless moves); the rest are dealt round-robin in order_seats() order, so
    every counsellor gets a similar mix of old and new leads. Returns ({user id: [lead ids]}, left over)."""
    lead_ids = list(lead_ids)
    owners = owners or {}
    order = [seat.user_id for seat in order_seats(seats) if quotas.get(seat.user_id)]
    left = {user_id: quotas[user_id] for user_id in order}
    dealt = {user_id: [] for user_id in order}
    rest = []
    for pk in lead_ids:
        owner = owners.get(pk)
        if left.get(owner, 0) > 0:
            dealt[owner].append(pk)
            left[owner] -= 1
        else:
            rest.append(pk)
    order = [user_id for user_id in order if left[user_id]]
    position = 0
    while order:
        still = []
        for user_id in order:
            dealt[user_id].append(rest[position])
            position += 1
            left[user_id] -= 1
            if left[user_id]:
                still.append(user_id)
        order = still
    return dealt, rest[position:]
