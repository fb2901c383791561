"""The pipeline board: reading columns (keyset pages, totals) and moving cards (rank placement).

Order within a column is (rank, id), ascending; new leads have rank 0, so ties are broken by id and stay
stable. A moved card gets a rank strictly between its neighbours' (gapped integers, GAP apart at the
ends). When two neighbours leave no room, one side of the column (whichever holds fewer cards, usually the
few above the drop point) is shifted by GAP in one UPDATE: an in-place rebalance that never renumbers a
whole column of 100,000 cards on a drag. `stage_rebalance` renumbers a whole column; it runs only when ranks
come near the limits of a 64-bit integer.
"""

from dataclasses import dataclass
from decimal import Decimal
from uuid import UUID

from django.db import connection, transaction
from django.db.models import F, Max, Min, Q, Sum
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from . import tally
from .models import Lead, Stage, StageKind
from .selectors import active_stages, lead_get_for, leads_visible_to
from .services import InvalidStage, lead_change_status

PAGE_SIZE = 25
GAP = 1 << 20
RANK_LIMIT = 1 << 62  # renumber the column before ranks come near the BigIntegerField's limits
EXACT_VALUE_MAX = 1_000  # columns with more cards show an estimated total deal value
SAMPLE_WINDOWS, SAMPLE_RUN = 6, 50  # the estimate reads 6 runs of 50 cards spread over the column
TOP, BOTTOM = "top", "bottom"
_PLACEHOLDER = UUID(int=0)
CARD_FIELDS = ("uuid", "name", "phone", "email", "value", "stage_id", "stage_changed_at", "created_at", "rank",
               "version", "next_follow_up_at", "assigned_to__full_name", "assigned_to__email")


# --- reading -------------------------------------------------------------------------------------------


def board_stages():
    return list(active_stages())


def _next_key(column, key):
    """The (rank, id) right after `key` in the column: later in its tie, else the next rank up."""
    rank, pk = key
    row = column.filter(rank=rank, pk__gt=pk).order_by("pk").values_list("rank", "pk").first()
    return row or column.filter(rank__gt=rank).order_by("rank", "pk").values_list("rank", "pk").first()


def _previous_key(column, key):
    rank, pk = key
    row = column.filter(rank=rank, pk__lt=pk).order_by("-pk").values_list("rank", "pk").first()
    return row or column.filter(rank__lt=rank).order_by("-rank", "-pk").values_list("rank", "pk").first()


def parse_cursor(value):
    """"rank.id" of the last card shown -> (rank, id); None when absent or malformed."""
    try:
        rank, pk = str(value).split(".")
        return int(rank), int(pk)
    except (TypeError, ValueError):
        return None


def column_page(leads, stage, *, after=None, size=PAGE_SIZE):
    """One page of a column: (cards, cursor of the next page or None). Keyset on (rank, id): the rest of the
    cursor's rank (a tie), then the ranks after it: two range scans of the (stage, rank, id) index."""
    rows = leads.filter(stage=stage).select_related("assigned_to").only(*CARD_FIELDS)
    if after is None:
        cards = list(rows.order_by("rank", "pk")[: size + 1])
    else:
        rank, pk = after
        cards = list(rows.filter(rank=rank, pk__gt=pk).order_by("pk")[: size + 1])
        if len(cards) <= size:
            cards += rows.filter(rank__gt=rank).order_by("rank", "pk")[: size + 1 - len(cards)]
    more = len(cards) > size
    cards = decorate(cards[:size])
    return cards, (f"{cards[-1].rank}.{cards[-1].pk}" if more else None)


def decorate(cards):
    """Days in the current stage, whether the next follow-up is overdue and the lead page's address, for
    the card template (one reverse() for all cards, not one per card)."""
    now = timezone.now()
    try:
        detail = reverse("leads:detail", args=[_PLACEHOLDER])
    except NoReverseMatch:
        detail = ""
    for card in cards:
        card.detail_url = detail.replace(str(_PLACEHOLDER), str(card.uuid))
        card.days_in_stage = max(0, (now - (card.stage_changed_at or card.created_at)).days)
        card.overdue = bool(card.next_follow_up_at and card.next_follow_up_at < now)
        card.value_display = compact_amount(card.value) if card.value is not None else ""
    return cards


@dataclass
class Totals:
    count: int
    value: Decimal | None
    estimated: bool = False

    @property
    def value_display(self) -> str:
        return ("≈ " if self.estimated else "") + compact_amount(self.value)


def column_totals(leads, stage, owner=None, *, estimate=True) -> Totals:
    """Lead count and total deal value of a column. With `owner` (crm.leads.tally: the board shows every
    lead a tally owner holds, with no other filter) both are exact and read from the stage tally. Otherwise
    the count is exact (from the (stage, rank) index) and the value exact up to
    EXACT_VALUE_MAX cards, estimated from a sample above that (the deal value is in no index, so an exact sum
    reads every card of the column from the table, ~10 µs a card); `estimate=False` leaves it None there."""
    if owner is not None:
        count, value = tally.stage_totals(owner).get(stage.pk, (0, Decimal(0)))
        return Totals(count, value)
    rows = leads.filter(stage=stage)
    count = rows.count()  # COUNT(*): an index-only scan (COUNT(id) or extra aggregates make it read the table)
    if count > EXACT_VALUE_MAX:
        if not estimate:
            return Totals(count, None, estimated=True)
        estimated = _estimated_value(rows, count)
        if estimated is not None:
            return Totals(count, *estimated)
    value = rows.aggregate(total=Sum("value"))["total"] if count else None
    return Totals(count, value or Decimal(0))


def column_counts(leads, stages, owner=None) -> dict:
    """{stage id: Totals} for the columns a move touched: from the stage tally when `owner` is given (exact
    counts and values, one query); else column_totals without the estimate (the value is None where the
    column shows one)."""
    if owner is not None:
        known = tally.stage_totals(owner)
        return {stage.pk: Totals(*known.get(stage.pk, (0, Decimal(0)))) for stage in stages}
    return {stage.pk: column_totals(leads, stage, estimate=False) for stage in stages}


def _estimated_value(rows, count):
    """The column's total value from a sample read through the (stage, rank, id) index, in two strata: the
    cards still on rank 0 (every lead nobody has dragged: usually most of a column), sampled in runs spread
    over their ids, and the dragged ones, sampled in runs spread over their ranks. Each stratum counts
    for its own number of cards. Returns (value, estimated) or None when a big stratum got too few samples
    (the caller then sums exactly)."""
    untouched = rows.filter(rank=0)
    untouched_count = untouched.count()
    dragged_count = count - untouched_count
    windows_untouched = max(1, round(SAMPLE_WINDOWS * untouched_count / count)) if untouched_count else 0
    windows_dragged = SAMPLE_WINDOWS - windows_untouched if dragged_count else 0
    runs = []
    if windows_untouched:
        ends = untouched.aggregate(low=Min("pk"), high=Max("pk"))  # two probes of the index
        for n in range(windows_untouched):
            start = ends["low"] + (ends["high"] - ends["low"]) * n // windows_untouched
            runs.append(untouched.filter(pk__gte=start).order_by("pk").values_list("pk", "value", "rank")[:SAMPLE_RUN])
    if windows_dragged:
        ends = rows.aggregate(low=Min("rank"), high=Max("rank"))
        for n in range(windows_dragged):
            start = ends["low"] + (ends["high"] - ends["low"]) * n // windows_dragged
            runs.append(rows.filter(rank__gte=start).order_by("rank").values_list("pk", "value", "rank")[:SAMPLE_RUN])
    if connection.features.supports_slicing_ordering_in_compound:
        runs = [runs[0].union(*runs[1:], all=True).order_by()]
    sample = {pk: (value or Decimal(0), rank) for run in runs for pk, value, rank in run}
    total, estimated = Decimal(0), False
    strata = (
        (untouched_count, [v for v, rank in sample.values() if rank == 0], untouched),
        (dragged_count, [v for v, rank in sample.values() if rank != 0], rows.exclude(rank=0)),
    )
    for cards, values, stratum in strata:
        if not cards:
            continue
        if len(values) == cards:  # the sample holds the whole stratum
            total += sum(values, Decimal(0))
        elif len(values) >= SAMPLE_RUN // 2:
            total += sum(values, Decimal(0)) * cards / len(values)
            estimated = True
        elif cards <= EXACT_VALUE_MAX:
            total += stratum.aggregate(total=Sum("value"))["total"] or Decimal(0)
        else:
            return None
    return total.quantize(Decimal(1)), estimated


def compact_amount(value) -> str:
    """12,345 -> "12,345"; 4,50,000 -> "4.5 L"; 2,30,00,000 -> "2.3 Cr" (the Indian units the team uses)."""
    value = Decimal(value or 0)
    for size, unit in ((10_000_000, "Cr"), (100_000, "L")):
        if abs(value) >= size:
            return f"{(value / size).quantize(Decimal('0.1')).normalize():f} {unit}"
    return f"{value.quantize(Decimal(1)):,}"


# --- rank placement ------------------------------------------------------------------------------------


def _key(row):
    return (row[0], row[1]) if row else None


def rank_between(low, high, pk):
    """A rank r with low < (r, pk) < high in (rank, id) order, or None when there is no room."""
    low_rank, high_rank = low[0], high[0]
    if high_rank - low_rank >= 2:
        return low_rank + (high_rank - low_rank) // 2
    for rank in (low_rank, high_rank):
        if low < (rank, pk) < high:
            return rank
    return None


def place(stage, pk, *, low=None, high=None, position=TOP) -> int:
    """The rank for lead `pk` in `stage` directly below `low` and/or above `high` ((rank, id) keys of its
    neighbours as the user saw them), or at the top or bottom of the column when it has no neighbours."""
    column = Lead.objects.filter(stage=stage).exclude(pk=pk)
    if low is not None and high is not None and low >= high:
        high = None  # the client's view was stale: trust the card above
    if low is None and high is None:
        if position == BOTTOM:
            edge = _key(column.order_by("-rank", "-pk").values_list("rank", "pk").first())
            rank = edge[0] + GAP if edge else 0
        else:
            edge = _key(column.order_by("rank", "pk").values_list("rank", "pk").first())
            rank = edge[0] - GAP if edge else 0
        return _within_limits(stage, pk, rank, low, high, position)
    if low is None:
        low = _key(_previous_key(column, high))
        if low is None:
            return _within_limits(stage, pk, high[0] - GAP, low, high, position)
    elif high is None:
        high = _key(_next_key(column, low))
        if high is None:
            return _within_limits(stage, pk, low[0] + GAP, low, high, position)
    rank = rank_between(low, high, pk)
    if rank is None:
        low, high = _make_room(column, low, high)
        rank = rank_between(low, high, pk)
    return _within_limits(stage, pk, rank, low, high, position)


def _make_room(column, low, high):
    """Open a gap of GAP between two adjacent keys by shifting the smaller side of the column."""
    # key <= low and key >= high, each an OR of two ranges of the (stage, rank, id) index
    head = column.filter(Q(rank__lt=low[0]) | Q(rank=low[0], pk__lte=low[1]))
    tail = column.filter(Q(rank__gt=high[0]) | Q(rank=high[0], pk__gte=high[1]))
    if head.order_by().values("pk")[:1000].count() <= tail.order_by().values("pk")[:1000].count():
        head.update(rank=F("rank") - GAP)
        return (low[0] - GAP, low[1]), high
    tail.update(rank=F("rank") + GAP)
    return low, (high[0] + GAP, high[1])


def _within_limits(stage, pk, rank, low, high, position):
    if -RANK_LIMIT < rank < RANK_LIMIT:
        return rank
    stage_rebalance(stage)
    fresh = dict(Lead.objects.filter(pk__in=[k[1] for k in (low, high) if k]).values_list("pk", "rank"))
    low = (fresh[low[1]], low[1]) if low and low[1] in fresh else None
    high = (fresh[high[1]], high[1]) if high and high[1] in fresh else None
    return place(stage, pk, low=low, high=high, position=position)


def stage_rebalance(stage) -> int:
    """Renumber a whole column GAP apart in its current order (one UPDATE; slow on huge columns, so only
    used when ranks near the integer limits). Returns the number of cards renumbered."""
    table = connection.ops.quote_name(Lead._meta.db_table)  # the model's own table name, not user input
    with connection.cursor() as cursor:
        sql = (
            f"UPDATE {table} SET rank = numbered.n * %s FROM (SELECT id, ROW_NUMBER() OVER (ORDER BY rank, id) "  # noqa: S608
            f"AS n FROM {table} WHERE stage_id = %s) AS numbered WHERE {table}.id = numbered.id"
        )
        cursor.execute(sql, [GAP, stage.pk])
        return cursor.rowcount


# --- moving --------------------------------------------------------------------------------------------


@transaction.atomic
def lead_move(*, by, lead_uuid, stage_id, version, before=None, after=None, position=TOP, note="", value=None):
    """Move a lead the user may see to `stage_id`, directly below the card `before` and above the card
    `after` (UUIDs of its neighbours on the user's board; either may be None), through lead_change_status
    (StatusChange on a stage change, version check). A lost stage keeps `note` as the reason; a won stage
    takes `value` as the deal value. Returns the fresh lead (with `previous_stage`); raises Http404,
    InvalidStage or VersionConflict (nothing changes)."""
    lead = lead_get_for(by, lead_uuid)
    previous_stage = lead.stage
    # Moves into one column are serialised (ranks are read, then written); FOR NO KEY UPDATE does not
    # block other writers that only reference the stage.
    stage = Stage.objects.select_for_update(no_key=True).filter(pk=stage_id, is_active=True).first()
    if stage is None:
        raise InvalidStage("Choose one of the pipeline's active stages.")
    wanted = [str(u) for u in (before, after) if u]
    neighbours = {
        str(u): (rank, pk)
        for u, rank, pk in leads_visible_to(by).filter(stage=stage, uuid__in=wanted).exclude(pk=lead.pk)
        .values_list("uuid", "rank", "pk")
    }
    rank = place(stage, lead.pk, low=neighbours.get(str(before)), high=neighbours.get(str(after)),
                 position=position)
    extra = {"value": value} if value is not None and stage.kind == StageKind.WON else None
    moved = lead_change_status(lead=lead, stage=stage, by=by, note=note.strip(), version=version, rank=rank,
                               extra_updates=extra)
    moved.previous_stage = previous_stage
    return moved
