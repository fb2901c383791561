"""The navigation's badge counts run only when a page shows the navigation (not for htmx fragments)."""

from crm.core import nav_counts
from crm.core.context_processors import navigation


def test_navigation_counts_are_computed_only_when_a_template_reads_them(rf, sales):
    calls = []
    provider = nav_counts.register(lambda user: calls.append(user) or {"probe": 7})
    try:
        request = rf.get("/")
        request.user = sales
        context = navigation(request)
        assert calls == []
        assert context["nav"]["probe"] == 7
        assert calls == [sales]
    finally:
        nav_counts._providers.remove(provider)


def test_a_fragment_of_the_lead_list_runs_no_badge_queries(client_for, sales):
    calls = []
    provider = nav_counts.register(lambda user: calls.append(user) or {})
    try:
        client = client_for(sales)
        client.get("/leads/", headers={"HX-Request": "true", "HX-Target": "lead-table"})
        assert calls == []
        client.get("/leads/")
        assert calls == [sales]
    finally:
        nav_counts._providers.remove(provider)
