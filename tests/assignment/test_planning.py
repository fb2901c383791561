"""The balanced-distribution rules, checked on many generated cases (pure functions, no database)."""

import random

from crm.assignment.planning import Seat, deal, order_seats, plan_quotas


def cases(n=300, seed=7):
    rng = random.Random(seed)
    for _ in range(n):
        seats = []
        for user_id in rng.sample(range(1, 60), rng.randint(1, 8)):
            capacity = rng.choice([None, None, rng.randint(0, 40)])
            seats.append(Seat(user_id, rng.randint(0, 30), capacity))
        yield rng.randint(0, 120), seats


def test_quotas_follow_the_rules():
    for total, seats in cases():
        check_quotas(total, seats)


def check_quotas(total, seats):
    quotas, left = plan_quotas(total, seats)

    assert sum(quotas.values()) + left == total
    for seat in seats:
        assert quotas[seat.user_id] >= 0
        if seat.room is not None:
            assert quotas[seat.user_id] <= seat.room  # never above capacity
    if left:  # something is left over only when everyone is full
        assert all(s.room is not None and quotas[s.user_id] == s.room for s in seats)
    top = max(quotas.values())
    # held back: at capacity with less than the most anyone got; everyone else is within one of the top
    free = [s for s in seats if not (s.room is not None and quotas[s.user_id] == s.room and quotas[s.user_id] < top)]
    assert all(quotas[s.user_id] >= top - 1 for s in free)
    # the extra ones go to those with fewer open leads (then the lower user id)
    in_order = [quotas[s.user_id] for s in order_seats(free)]
    assert in_order == sorted(in_order, reverse=True)


def test_quotas_example_with_capacity():
    seats = [Seat(1, 10), Seat(2, 0), Seat(3, 5, capacity=6), Seat(4, 3)]
    assert plan_quotas(10, seats) == ({2: 3, 4: 3, 3: 1, 1: 3}, 0)
    assert plan_quotas(2, [Seat(1, 4, capacity=5), Seat(2, 9, capacity=9)]) == ({1: 1, 2: 0}, 1)


def test_dealing_gives_every_lead_once_and_is_deterministic():
    for total, seats in cases(100, seed=11):
        check_dealing(total, seats)


def check_dealing(total, seats):
    quotas, left = plan_quotas(total, seats)
    lead_ids = list(range(1000, 1000 + total))
    owners = {pk: random.Random(pk).choice([None] + [s.user_id for s in seats]) for pk in lead_ids}

    dealt, rest = deal(lead_ids, seats, quotas, owners)

    given = [pk for pks in dealt.values() for pk in pks]
    assert sorted(given + rest) == lead_ids and len(rest) == left
    assert {user_id: len(pks) for user_id, pks in dealt.items()} == {k: v for k, v in quotas.items() if v}
    assert (dealt, rest) == deal(lead_ids, list(reversed(seats)), quotas, owners)


def test_leads_stay_with_their_owner_when_the_quota_allows():
    seats = [Seat(1, 0), Seat(2, 0)]
    dealt, rest = deal([10, 11, 12, 13], seats, {1: 2, 2: 2}, {10: 2, 11: 2, 12: None, 13: None})
    assert dealt == {1: [12, 13], 2: [10, 11]} and rest == []


def test_round_robin_mixes_old_and_new_leads():
    seats = [Seat(1, 0), Seat(2, 0), Seat(3, 0)]
    dealt, _ = deal(range(1, 10), seats, {1: 3, 2: 3, 3: 3})
    assert dealt == {1: [1, 4, 7], 2: [2, 5, 8], 3: [3, 6, 9]}
