"""The board's services and selectors: rank placement, moves through lead_change_status, column pages
and totals. Real database, no mocks."""

import random
from decimal import Decimal

import pytest
from django.http import Http404

from crm.leads import board
from crm.leads.models import Lead, StatusChange
from crm.leads.selectors import leads_visible_to
from crm.leads.services import InvalidStage, VersionConflict
from tests.factories import LeadFactory, stage_named

pytestmark = pytest.mark.django_db


def column(stage):
    """The column as the board orders it: (rank, id)."""
    return list(Lead.objects.filter(stage=stage).order_by("rank", "pk").values_list("name", flat=True))


def make_column(stage, names, owner=None, rank=None):
    """Leads in `stage`, in that order (ranks GAP apart unless `rank` gives them all one rank)."""
    leads = []
    for i, name in enumerate(names):
        leads.append(LeadFactory(name=name, stage=stage, assigned_to=owner,
                                 rank=(i + 1) * board.GAP if rank is None else rank))
    return leads


def move(user, lead, stage, before=None, after=None, **kwargs):
    lead.refresh_from_db()
    return board.lead_move(by=user, lead_uuid=lead.uuid, stage_id=stage.pk, version=lead.version,
                           before=before.uuid if before else None, after=after.uuid if after else None, **kwargs)


# --- rank placement --------------------------------------------------------------------------------------


def test_move_to_the_top_of_another_column(manager):
    new, valid = stage_named("New"), stage_named("Valid")
    a, b, c = make_column(valid, ["A", "B", "C"])
    (x,) = make_column(new, ["X"])
    move(manager, x, valid, before=None, after=a)
    assert column(valid) == ["X", "A", "B", "C"]
    assert column(new) == []


def test_move_to_the_bottom_and_between(manager):
    new, valid = stage_named("New"), stage_named("Valid")
    a, b, c = make_column(valid, ["A", "B", "C"])
    x, y = make_column(new, ["X", "Y"])
    move(manager, x, valid, before=c, after=None)
    assert column(valid) == ["A", "B", "C", "X"]
    move(manager, y, valid, before=a, after=b)
    assert column(valid) == ["A", "Y", "B", "C", "X"]


def test_reorder_within_a_column_writes_no_status_change(manager):
    valid = stage_named("Valid")
    a, b, c, d = make_column(valid, ["A", "B", "C", "D"])
    before = StatusChange.objects.count()
    moved = move(manager, d, valid, before=a, after=b)
    assert column(valid) == ["A", "D", "B", "C"]
    assert moved.version == 2
    assert StatusChange.objects.count() == before


def test_a_card_dropped_below_the_last_loaded_card_goes_right_after_it(manager):
    """With only part of a long column loaded, dropping below card B puts the card after B, not at the
    very end of the column."""
    valid = stage_named("Valid")
    a, b, c, d = make_column(valid, ["A", "B", "C", "D"])
    move(manager, d, valid, before=b, after=None)
    assert column(valid) == ["A", "B", "D", "C"]
    move(manager, a, valid, before=None, after=c)
    assert column(valid) == ["B", "D", "A", "C"]


def test_position_top_and_bottom_without_neighbours(manager):
    new, valid = stage_named("New"), stage_named("Valid")
    make_column(valid, ["A", "B"])
    x, y = make_column(new, ["X", "Y"])
    move(manager, x, valid, position=board.BOTTOM)
    move(manager, y, valid, position=board.TOP)
    assert column(valid) == ["Y", "A", "B", "X"]
    empty = stage_named("Shortlisted")
    move(manager, x, empty)
    assert column(empty) == ["X"]


def test_stale_neighbours_are_ignored(manager):
    """A neighbour that is no longer in the target column (someone moved it) does not break the move."""
    new, valid = stage_named("New"), stage_named("Valid")
    a, b = make_column(valid, ["A", "B"])
    elsewhere, x = make_column(new, ["Elsewhere", "X"])
    move(manager, x, valid, before=elsewhere, after=b)
    assert column(valid) == ["A", "X", "B"]


def test_ties_at_rank_zero_are_ordered_by_id_and_a_move_between_them_makes_room(manager):
    """New leads all have rank 0: the board orders them by id. Dropping a card between two of them
    opens a gap by shifting the cards above (few) and never renumbers the whole column."""
    new, valid = stage_named("New"), stage_named("Valid")
    a, b, c, d, e = make_column(new, ["A", "B", "C", "D", "E"], rank=0)
    (x,) = make_column(valid, ["X"])
    assert column(new) == ["A", "B", "C", "D", "E"]
    move(manager, x, new, before=b, after=c)
    assert column(new) == ["A", "B", "X", "C", "D", "E"]
    ranks = dict(Lead.objects.filter(stage=new).values_list("name", "rank"))
    # the smaller side (A, B) moved up by one gap; C, D, E kept rank 0
    assert ranks["A"] == ranks["B"] == -board.GAP
    assert ranks["C"] == ranks["D"] == ranks["E"] == 0
    assert -board.GAP < ranks["X"] <= 0


def test_when_a_gap_runs_out_the_smaller_side_is_shifted(manager):
    valid = stage_named("Valid")
    names = [f"L{i:02d}" for i in range(12)]
    leads = make_column(valid, names)
    low, high = leads[9], leads[10]
    Lead.objects.filter(pk=high.pk).update(rank=low.rank)  # a tie: L00 (smaller id) cannot sit between them
    mover = leads[0]
    move(manager, mover, valid, before=low, after=high)
    assert column(valid) == names[1:10] + ["L00"] + names[10:]
    ranks = dict(Lead.objects.filter(stage=valid).values_list("name", "rank"))
    assert ranks["L10"] == ranks["L09"] + board.GAP  # the tail (L10, L11) was the smaller side
    assert ranks["L01"] == 2 * board.GAP  # the head kept its ranks
    assert ranks["L09"] < ranks["L00"] < ranks["L10"]


def test_many_random_moves_keep_a_stable_total_order(manager):
    """Model the board as lists and apply 150 random drags (within and across columns, between random
    neighbours, with occasional ties): the database order always matches the model."""
    rng = random.Random(5)
    stages = [stage_named("New"), stage_named("Valid"), stage_named("Interested")]
    model = {s.pk: [] for s in stages}
    for s in stages:
        for lead in make_column(s, [f"{s.name[:3]}{i}" for i in range(6)], rank=0 if s.name == "New" else None):
            model[s.pk].append(lead)
    model[stages[0].pk].sort(key=lambda lead: lead.pk)
    for _ in range(150):
        source = rng.choice([s for s in stages if model[s.pk]])
        lead = rng.choice(model[source.pk])
        target = rng.choice(stages)
        model[source.pk].remove(lead)
        cards = model[target.pk]
        index = rng.randint(0, len(cards))
        above = cards[index - 1] if index > 0 else None
        below = cards[index] if index < len(cards) else None
        move(manager, lead, target, before=above, after=below)
        cards.insert(index, lead)
        for s in stages:
            assert column(s) == [lead.name for lead in model[s.pk]]


def test_stage_rebalance_renumbers_a_column_in_its_order(manager):
    valid = stage_named("Valid")
    make_column(valid, ["C", "A", "B"], rank=7)
    Lead.objects.filter(name="A").update(rank=-5)
    assert column(valid) == ["A", "C", "B"]
    assert board.stage_rebalance(valid) == 3
    ranks = list(Lead.objects.filter(stage=valid).order_by("rank", "pk").values_list("name", "rank"))
    assert ranks == [("A", board.GAP), ("C", 2 * board.GAP), ("B", 3 * board.GAP)]


def test_ranks_near_the_integer_limit_trigger_a_rebalance(manager):
    new, valid = stage_named("New"), stage_named("Valid")
    a, b = make_column(valid, ["A", "B"])
    Lead.objects.filter(pk=a.pk).update(rank=-board.RANK_LIMIT + 5)
    (x,) = make_column(new, ["X"])
    move(manager, x, valid, position=board.TOP)
    assert column(valid) == ["X", "A", "B"]
    assert max(abs(r) for r in Lead.objects.filter(stage=valid).values_list("rank", flat=True)) < 10 * board.GAP


# --- status history, conflicts, won / lost ---------------------------------------------------------------


def test_a_move_across_columns_writes_one_status_change(manager):
    new, valid = stage_named("New"), stage_named("Valid")
    (x,) = make_column(new, ["X"])
    moved = move(manager, x, valid)
    changes = list(StatusChange.objects.filter(lead=x))
    assert len(changes) == 1
    assert (changes[0].from_stage, changes[0].to_stage, changes[0].by) == (new, valid, manager)
    assert moved.stage == valid and moved.stage_changed_at is not None and moved.version == 2


def test_a_stale_version_conflicts_and_changes_nothing(manager):
    new, valid = stage_named("New"), stage_named("Valid")
    a, b = make_column(valid, ["A", "B"], rank=0)
    (x,) = make_column(new, ["X"])
    Lead.objects.filter(pk=x.pk).update(version=5)  # someone else saved it meanwhile
    with pytest.raises(VersionConflict) as conflict:
        board.lead_move(by=manager, lead_uuid=x.uuid, stage_id=valid.pk, version=4, before=a.uuid, after=b.uuid)
    assert conflict.value.lead.stage == new
    assert Lead.objects.get(pk=x.pk).stage == new
    assert dict(Lead.objects.filter(stage=valid).values_list("name", "rank")) == {"A": 0, "B": 0}
    assert not StatusChange.objects.filter(lead=x).exists()


def test_lost_keeps_the_reason_and_won_the_value(manager):
    new = stage_named("New")
    x, y = make_column(new, ["X", "Y"])
    move(manager, x, stage_named("Not interested"), note="  Chose another college  ")
    assert StatusChange.objects.get(lead=x).note == "Chose another college"
    won = move(manager, y, stage_named("Admission"), value=Decimal("125000.50"))
    assert won.value == Decimal("125000.50")
    z = LeadFactory(stage=new, value=Decimal(10))
    move(manager, z, stage_named("Valid"), value=Decimal(99))  # only a won stage takes the value
    assert Lead.objects.get(pk=z.pk).value == Decimal(10)


def test_an_inactive_stage_is_refused(manager):
    new = stage_named("New")
    (x,) = make_column(new, ["X"])
    valid = stage_named("Valid")
    valid.is_active = False
    valid.save()
    with pytest.raises(InvalidStage):
        move(manager, x, valid)
    assert Lead.objects.get(pk=x.pk).stage == new


def test_a_sales_user_cannot_move_another_counsellors_lead(sales, other_sales):
    new, valid = stage_named("New"), stage_named("Valid")
    (theirs,) = make_column(new, ["Theirs"], owner=other_sales)
    with pytest.raises(Http404):
        move(sales, theirs, valid)
    theirs_now = Lead.objects.get(pk=theirs.pk)
    assert (theirs_now.stage, theirs_now.version, theirs_now.rank) == (new, 1, theirs.rank)
    assert not StatusChange.objects.filter(lead=theirs).exists()


def test_neighbours_a_sales_user_cannot_see_are_ignored(sales, other_sales):
    new, valid = stage_named("New"), stage_named("Valid")
    a, b = make_column(valid, ["Mine A", "Mine B"], owner=sales)
    (hidden,) = make_column(valid, ["Hidden"], owner=other_sales, rank=3 * board.GAP)
    (x,) = make_column(new, ["Mine X"], owner=sales)
    move(sales, x, valid, before=hidden, after=None, position=board.TOP)
    assert column(valid)[0] == "Mine X"


# --- reading -------------------------------------------------------------------------------------------


def test_column_pages_walk_the_column_by_keyset(manager, sales):
    valid = stage_named("Valid")
    make_column(valid, [f"R{i:02d}" for i in range(30)])
    make_column(valid, [f"T{i:02d}" for i in range(14)], rank=0)  # new leads: ties on rank 0
    make_column(valid, [f"S{i:02d}" for i in range(4)], owner=sales)  # ties with R00..R03's ranks
    seen, cursor, pages = [], None, 0
    while True:  # pages end inside the tie on rank 0 and inside the ties of R00..R03 with S00..S03
        cards, cursor = board.column_page(leads_visible_to(manager), valid, after=board.parse_cursor(cursor), size=9)
        seen += [card.name for card in cards]
        pages += 1
        if cursor is None:
            break
    assert pages == 6
    assert seen == column(valid)
    assert seen[:14] == [f"T{i:02d}" for i in range(14)]
    assert seen[14:18] == ["R00", "S00", "R01", "S01"]
    mine, cursor = board.column_page(leads_visible_to(sales), valid)
    assert [card.name for card in mine] == [f"S{i:02d}" for i in range(4)] and cursor is None


def test_column_totals_count_and_sum_exactly_for_small_columns(manager):
    valid = stage_named("Valid")
    LeadFactory(stage=valid, value=Decimal("100000"))
    LeadFactory(stage=valid, value=Decimal("50000.40"))
    LeadFactory(stage=valid, value=None)
    totals = board.column_totals(leads_visible_to(manager), valid)
    assert (totals.count, totals.value, totals.estimated) == (3, Decimal("150000.40"), False)
    assert totals.value_display == "1.5 L"
    assert board.column_totals(leads_visible_to(manager), stage_named("Admission")).count == 0


def test_big_columns_estimate_the_value_from_a_sample(manager, monkeypatch):
    """Above EXACT_VALUE_MAX cards the total value is estimated from runs of cards spread over the column
    (by rank); with every card worth the same the estimate is exact, and the header says it is an estimate.
    Cards of other columns (worth more) do not count."""
    monkeypatch.setattr(board, "EXACT_VALUE_MAX", 100)
    monkeypatch.setattr(board, "SAMPLE_WINDOWS", 5)
    monkeypatch.setattr(board, "SAMPLE_RUN", 20)
    valid, new = stage_named("Valid"), stage_named("New")
    Lead.objects.bulk_create(
        [Lead(name=f"B{i}", phone=f"+9197{i:08d}", stage=valid if i % 2 else new, rank=i,
              value=Decimal(1000 if i % 2 else 7)) for i in range(3000)]
    )
    totals = board.column_totals(leads_visible_to(manager), valid)
    assert totals.count == 1500
    assert totals.estimated and totals.value == Decimal(1_500_000)
    assert totals.value_display == "≈ 15 L"


def test_a_column_of_untouched_cards_is_sampled_across_their_ids(manager, monkeypatch):
    """Leads nobody has dragged all sit on rank 0: the sample spreads over their ids instead."""
    monkeypatch.setattr(board, "EXACT_VALUE_MAX", 100)
    monkeypatch.setattr(board, "SAMPLE_WINDOWS", 5)
    monkeypatch.setattr(board, "SAMPLE_RUN", 20)
    valid = stage_named("Valid")
    Lead.objects.bulk_create(
        [Lead(name=f"U{i}", phone=f"+9196{i:08d}", stage=valid, rank=0, value=Decimal(500)) for i in range(1200)]
    )
    totals = board.column_totals(leads_visible_to(manager), valid)
    assert (totals.count, totals.value, totals.estimated) == (1200, Decimal(600_000), True)


def test_untouched_and_dragged_cards_are_estimated_as_two_strata(manager, monkeypatch):
    """1,200 untouched cards worth 1,000 and 300 dragged ones worth 10: each group counts for its own size
    (one pooled mean over a sample that over-represents the dragged cards would be far off)."""
    monkeypatch.setattr(board, "EXACT_VALUE_MAX", 100)
    monkeypatch.setattr(board, "SAMPLE_WINDOWS", 6)
    monkeypatch.setattr(board, "SAMPLE_RUN", 20)
    valid = stage_named("Valid")
    Lead.objects.bulk_create(
        [Lead(name=f"U{i}", phone=f"+9196{i:08d}", stage=valid, rank=0, value=Decimal(1000)) for i in range(1200)]
        + [Lead(name=f"D{i}", phone=f"+9195{i:08d}", stage=valid, rank=(i - 150 + (i >= 150)) * board.GAP,
                value=Decimal(10)) for i in range(300)]  # above and below the untouched ones, none on 0
    )
    totals = board.column_totals(leads_visible_to(manager), valid)
    assert (totals.count, totals.value, totals.estimated) == (1500, Decimal(1_203_000), True)


def test_a_sample_that_holds_the_whole_column_is_exact(manager, monkeypatch):
    monkeypatch.setattr(board, "EXACT_VALUE_MAX", 10)
    valid = stage_named("Valid")
    Lead.objects.bulk_create(
        [Lead(name=f"T{i}", phone=f"+9196{i:08d}", stage=valid, rank=0, value=Decimal(i)) for i in range(40)]
    )
    totals = board.column_totals(leads_visible_to(manager), valid)
    assert (totals.count, totals.value, totals.estimated) == (40, Decimal(sum(range(40))), False)


@pytest.mark.parametrize(
    ("value", "shown"),
    [(0, "0"), (Decimal("45000"), "45,000"), (Decimal("250000"), "2.5 L"), (Decimal("23000000"), "2.3 Cr"),
     (Decimal("100000"), "1 L")],
)
def test_compact_amounts(value, shown):
    assert board.compact_amount(value) == shown
