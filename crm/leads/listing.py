"""Sorting, counting and paging the lead list so that it stays fast at 1,000,000 leads.

- Every sort the list offers is served by an index that ends with the primary key (models.Lead.Meta.indexes),
  and always ends with the primary key itself, so pages are stable.
- A page is read in two steps (a "deferred join"): first the primary keys of the page, which PostgreSQL reads
  from the index alone (an index-only scan skips OFFSET rows without touching the table), then the 25 rows.
- Offsets are capped (MAX_OFFSET): deeper than that, the list asks for narrower filters or the reverse sort.
- Totals are exact up to COUNT_CAP; above it the list says "more than 2,000" (filtered) or shows the planner's
  estimate of the table size (unfiltered, PostgreSQL), marked as such. Nothing counts a million rows.
"""

from dataclasses import dataclass, field

from django.db import connection
from django.db.models import F

from .models import Lead

PER_PAGE_CHOICES = (10, 25, 50, 100)
DEFAULT_PER_PAGE = 25
COUNT_CAP = 2_000
# Text search results are rechecked row by row in the table (trigram matches are candidates), so they are
# counted less far: "more than 1,000" is all a search box needs to say.
SEARCH_COUNT_CAP = 1_000
MAX_OFFSET = 250_000

# sort key -> ordering (ascending). A leading "-" on the key reverses every term.
SORTS = {
    "updated": (F("updated_at").asc(), F("id").asc()),
    "created": (F("created_at").asc(), F("id").asc()),
    "name": (F("name").asc(), F("id").asc()),
    "phone": (F("phone").asc(nulls_last=True), F("id").asc()),
    "next_follow_up": (F("next_follow_up_at").asc(nulls_last=True), F("id").asc()),
    "last_contacted": (F("last_contacted_at").asc(nulls_first=True), F("id").asc()),
}
DEFAULT_SORT = "-updated"


def clean_sort(value: str | None) -> str:
    """The sort the request asked for if the list offers it, else the default (most recently updated first)."""
    if value and value.lstrip("-") in SORTS:
        return value
    return DEFAULT_SORT


def ordering_for(sort: str) -> list:
    """ORDER BY terms; reversing also swaps NULLS FIRST/LAST, so "-last_contacted" puts never-contacted last."""
    key = sort.lstrip("-")
    terms = SORTS[key]
    if not sort.startswith("-"):
        return list(terms)
    reversed_terms = []
    for term in terms:
        reversed_terms.append(
            F(term.expression.name).desc(
                nulls_last=True if term.nulls_first else None, nulls_first=True if term.nulls_last else None
            )
        )
    return reversed_terms


def clean_page(value) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        return 1
    return max(1, number)


def clean_per_page(value) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        return DEFAULT_PER_PAGE
    return number if number in PER_PAGE_CHOICES else DEFAULT_PER_PAGE


@dataclass
class LeadPage:
    leads: list
    number: int
    per_page: int
    has_next: bool
    total: int
    total_exact: bool
    too_deep: bool = False
    pages: list = field(default_factory=list)

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def start_index(self) -> int:
        return (self.number - 1) * self.per_page + 1 if self.leads else 0

    @property
    def end_index(self) -> int:
        return (self.number - 1) * self.per_page + len(self.leads)

    @property
    def last_page(self) -> int | None:
        """The last page number when the total is exact, else None (only "next" is offered)."""
        if not self.total_exact:
            return None
        return max(1, -(-self.total // self.per_page))

    @property
    def max_page(self) -> int:
        return MAX_OFFSET // self.per_page


def capped_count(queryset, cap: int | None = None) -> tuple[int, bool]:
    """(count, exact): counts at most cap + 1 rows, so a huge set costs no more than a small one."""
    cap = COUNT_CAP if cap is None else cap
    n = queryset.order_by().values("pk")[: cap + 1].count()  # primary keys only: an index-only scan can count
    return (n, True) if n <= cap else (cap, False)


def estimated_table_rows() -> int | None:
    """The planner's estimate of the lead table's size (PostgreSQL; kept fresh by autovacuum/ANALYZE)."""
    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute("SELECT reltuples::bigint FROM pg_class WHERE oid = %s::regclass", [Lead._meta.db_table])
        row = cursor.fetchone()
    return int(row[0]) if row and row[0] and row[0] > 0 else None


def lead_page(queryset, *, sort: str, page: int, per_page: int = DEFAULT_PER_PAGE, unfiltered: bool = False,
              count_cap: int | None = None, known_total: int | None = None) -> LeadPage:
    """One page of the (already filtered, permission-checked) queryset in the given sort: two queries (the
    count and the page), or one when the whole big table is listed and the planner's estimate stands in,
    or `known_total` (exact, from the stage tally: crm.leads.tally.list_total) does."""
    ordering = ordering_for(sort)
    whole_table = unfiltered and not queryset.query.where  # a sales user's "unfiltered" list is still theirs only
    estimate = estimated_table_rows() if whole_table and known_total is None else None
    if known_total is not None:
        total, exact = known_total, True
    elif estimate is not None and estimate > 2 * (count_cap or COUNT_CAP):
        total, exact = estimate, False
    else:
        total, exact = capped_count(queryset, count_cap)
    offset = (page - 1) * per_page
    if offset > MAX_OFFSET:
        return LeadPage([], page, per_page, has_next=False, total=total, total_exact=exact, too_deep=True)
    # The page's keys come from the index alone (the subquery); the outer query reads just those rows.
    keys = queryset.order_by(*ordering).values("pk")[offset : offset + per_page + 1]
    rows = list(Lead.objects.filter(pk__in=keys).select_related("stage", "assigned_to").order_by(*ordering))
    result = LeadPage(rows[:per_page], page, per_page, has_next=len(rows) > per_page and offset + per_page <= MAX_OFFSET,
                      total=total, total_exact=exact)
    result.pages = _page_links(result)
    return result


def _page_links(page: LeadPage) -> list:
    """A short pager: first, a window around the current page, and the last page when it is known."""
    last = page.last_page or (page.number + 1 if page.has_next else page.number)
    wanted = {1, last} | set(range(max(1, page.number - 2), min(last, page.number + 2) + 1))
    numbers = sorted(n for n in wanted if n >= 1)
    links, previous = [], None
    for n in numbers:
        if previous is not None and n - previous > 1:
            links.append(None)  # an ellipsis
        links.append(n)
        previous = n
    return links
