"""The pages: what they show, their links to the lead list, htmx fragments, filters in the URL, the cache."""

import re
from datetime import timedelta

import pytest
from django.http import QueryDict
from django.urls import reverse

from crm.dashboards import selectors
from crm.dashboards.forms import DashboardFilterForm
from tests.factories import LeadFactory

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}


def number(html: str, key: str) -> str:
    """The text of the element marked data-number="key" (the number, linked or not)."""
    match = re.search(rf'data-number="{key}">(.*?)</(?:div|span)>', html, re.S)
    assert match, f"no number {key}"
    return re.sub(r"<[^>]+>", "", match.group(1)).strip()


def link_of(html: str, key: str) -> str | None:
    match = re.search(rf'data-number="{key}"><a href="([^"]+)"', html)
    return match.group(1).replace("&amp;", "&") if match else None


def listed(url, user) -> int:
    """How many leads the lead list shows at `url` to `user` (its own filter, as the page applies it)."""
    from django.http import QueryDict
    from django.test import RequestFactory

    from crm.leads.filters import LeadFilter
    from crm.leads.selectors import leads_visible_to

    request = RequestFactory().get(url)
    request.user = user
    query = QueryDict(url.partition("?")[2])
    lead_filter = LeadFilter(query, queryset=leads_visible_to(user), request=request)
    assert lead_filter.is_valid(), lead_filter.errors
    return lead_filter.qs.count()


def test_contacted_numbers_link_to_exactly_those_leads(client_for, data):
    html = client_for(data.M).get(reverse("dashboards:manager")).text
    for person, contacted in ((data.A, 3), (data.B, 3)):
        url = re.search(rf'data-counsellor="{person.pk}".*?data-col="contacted"><a href="([^"]+)"', html, re.S).group(1)
        assert listed(url.replace("&amp;", "&"), data.M) == contacted
    mine = client_for(data.A).get(reverse("dashboards:counsellor")).text
    assert listed(link_of(mine, "not_contacted"), data.A) == int(number(mine, "not_contacted")) == 1


def test_home_sends_each_role_to_its_own_page(client_for, data, admin_user):
    assert client_for(data.M).get("/").url == reverse("dashboards:manager")
    assert client_for(admin_user).get("/").url == reverse("dashboards:manager")
    assert client_for(data.A).get("/").url == reverse("dashboards:counsellor")


def test_pages_need_a_signed_in_user(client):
    for name in ["home", "dashboards:manager", "dashboards:counsellor", "dashboards:funnel", "dashboards:companies"]:
        response = client.get(reverse(name))
        assert response.status_code == 302 and "/accounts/login/" in response.url


def test_manager_dashboard_shows_the_numbers_with_links_to_those_leads(client_for, data):
    html = client_for(data.M).get(reverse("dashboards:manager")).text
    assert (number(html, "all"), number(html, "assigned"), number(html, "unassigned"), number(html, "overdue")) == (
        "9", "7", "2", "2"
    )
    assert link_of(html, "unassigned") == "/leads/?counsellor=none"
    assert link_of(html, "overdue") == "/leads/?follow_up=overdue"
    today = data.today.isoformat()
    assert link_of(html, "new_today") == f"/leads/?created_after={today}&created_before={today}"
    assert link_of(html, "assigned") == "/leads/?counsellor=any"
    assert listed(link_of(html, "assigned"), data.M) == 7
    new = data.s.new.pk
    assert f'<a href="/leads/?stage={new}" class="num-link" title="Show these leads: New">2</a>' in html
    # Per-counsellor cells link to that counsellor's leads in that stage.
    assert f'href="/leads/?stage={data.s.admission.pk}&amp;counsellor={data.A.pk}"' in html
    assert 'id="chart-stages-canvas"' in html and 'id="chart-stages" type="application/json"' in html
    assert "How the funnel counts" in html


def test_filters_are_in_the_url_and_htmx_gets_the_fragment(client_for, data):
    url = f"{reverse('dashboards:manager')}?counsellor={data.B.pk}"
    response = client_for(data.M).get(url, headers={**HTMX, "HX-Target": "dashboard-body"})
    html = response.text
    assert "<html" not in html and html.lstrip().startswith('<div id="dashboard-body"')
    assert "HX-Request" in response["Vary"]  # the same URL answers the whole page without htmx
    assert number(html, "all") == "3"
    assert link_of(html, "all") == f"/leads/?counsellor={data.B.pk}"
    assert f'<option value="{data.B.pk}" selected>' in html  # the form shows the filter it applied
    assert re.findall(r'data-counsellor="(\d+)"', html) == [str(data.B.pk)]


def test_date_filter_narrows_and_links_carry_the_range(client_for, data):
    start, end = data.today - timedelta(days=12), data.today - timedelta(days=9)
    html = client_for(data.M).get(reverse("dashboards:manager"), {"date_from": start, "date_to": end}).text
    assert number(html, "all") == "3"
    assert link_of(html, "all") == f"/leads/?created_after={start}&created_before={end}"
    assert number(html, "new_today") == "0"


def test_a_bad_filter_is_explained_and_ignored(client_for, data):
    response = client_for(data.M).get(
        reverse("dashboards:manager"), {"date_from": data.today, "date_to": data.today - timedelta(days=3)}
    )
    assert response.status_code == 200
    assert "The end date is before the start date." in response.text
    assert number(response.text, "all") == "9"
    response = client_for(data.M).get(reverse("dashboards:manager"), {"date_from": "yesterday-ish", "counsellor": "x"})
    assert "Enter a valid date." in response.text and "Select a valid choice" in response.text
    assert number(response.text, "all") == "9"


def test_counsellor_table_sorts_and_htmx_gets_the_table_only(client_for, data):
    client = client_for(data.M)
    response = client.get(reverse("dashboards:manager"), {"sort": "-assigned"},
                          headers={**HTMX, "HX-Target": "counsellor-table"})
    html = response.text
    assert html.lstrip().startswith('<section id="counsellor-table"')
    order = re.findall(r'data-counsellor="(\d+)"', html)
    assert order == [str(data.A.pk), str(data.B.pk), str(data.C.pk)]
    assert "sort=assigned" in html  # clicking again sorts the other way
    html = client.get(reverse("dashboards:manager"), {"sort": "name"}).text
    assert re.findall(r'data-counsellor="(\d+)"', html) == [str(data.C.pk), str(data.B.pk), str(data.A.pk)]


def test_cached_numbers_say_as_of_and_last_at_most_a_minute(client_for, data, settings):
    client = client_for(data.M)
    first = client.get(reverse("dashboards:manager")).text
    assert "as of" not in first
    LeadFactory(name="Late lead")
    second = client.get(reverse("dashboards:manager")).text
    assert "as of" in second and number(second, "all") == "9"  # the cached numbers
    settings.DASHBOARD_CACHE_SECONDS = 0
    third = client.get(reverse("dashboards:manager")).text
    assert "as of" not in third and number(third, "all") == "10"


def test_counsellor_home(client_for, data):
    html = client_for(data.A).get(reverse("dashboards:counsellor")).text
    assert (number(html, "mine"), number(html, "overdue"), number(html, "due_today"), number(html, "won")) == (
        "4", "1", "1", "1"
    )
    assert number(html, "conversion") == "25.0%"
    assert link_of(html, "mine") == "/leads/"  # a counsellor's list holds only their own leads
    assert link_of(html, "overdue") == "/leads/?follow_up=overdue"
    assert link_of(html, "due_today") == "/leads/?follow_up=today"
    current = re.search(r'id="work-current" data-lead="([^"]+)"', html).group(1)
    assert current == str(data.L[1].uuid)  # L2, the overdue one, comes first
    assert "Ask about the fees" in html
    assert number(html, "new_assigned") == "2"
    assert 'id="chart-my-stages-canvas"' in html


def test_work_list_fragment_for_htmx(client_for, data):
    response = client_for(data.A).get(reverse("dashboards:counsellor"), headers={**HTMX, "HX-Target": "work-list"})
    assert response.text.lstrip().startswith('<section id="work-list"')
    assert "L2" in response.text and "L4" in response.text


def test_funnel_report_list_and_chart(client_for, data):
    client = client_for(data.M)
    html = client.get(reverse("dashboards:funnel")).text
    assert (number(html, "total"), number(html, "created_recent"), number(html, "activities_total"),
            number(html, "activities_recent")) == ("9", "8", "7", "6")
    assert "canvas" not in html
    since = (data.today - timedelta(days=29)).isoformat()
    assert link_of(html, "created_recent") == f"/leads/?created_after={since}&created_before={data.today}"
    response = client.get(reverse("dashboards:funnel"), {"view": "chart"}, headers={**HTMX, "HX-Target": "report-body"})
    assert response.text.lstrip().startswith('<div id="report-body"')
    assert 'id="chart-report-funnel-canvas"' in response.text and 'id="chart-report-stages-canvas"' in response.text


def test_companies_report(client_for, data):
    html = client_for(data.M).get(reverse("dashboards:companies")).text
    assert (number(html, "total"), number(html, "with_linkedin"), number(html, "recent")) == ("4", "2", "2")
    assert (number(html, "avg_employees"), number(html, "avg_revenue")) == ("200", "2,000,000")
    assert number(html, "leads_with_linkedin").startswith("3")
    assert link_of(html, "leads_with_linkedin") == "/leads/?linkedin=yes"
    assert listed(link_of(html, "leads_with_linkedin"), data.M) == 3
    assert 'href="/leads/?industry=Education"' in html
    assert link_of(html, "total") == "/companies/"
    assert 'href="/companies/?industry=Education"' in html
    html = client_for(data.A).get(reverse("dashboards:companies")).text
    assert "/companies/" not in html.split('id="company-totals"')[1]  # that list shows every company, not theirs


def test_last_five_imports_with_their_status(client_for, data):
    from crm.imports.models import ImportJob

    jobs = [ImportJob.objects.create(original_name=f"file{i}.csv", status=status, created_by=data.M, created=10 * i)
            for i, status in enumerate(["completed", "failed", "running", "completed", "queued", "cancelled"])]
    html = client_for(data.M).get(reverse("dashboards:manager")).text
    section = html.split('id="imports-title"')[1]
    assert "file0.csv" not in section  # the oldest of six
    for job in jobs[1:]:
        assert f'<a href="/imports/{job.pk}/">{job.original_name}</a>' in section
    assert section.index("file5.csv") < section.index("file1.csv")  # newest first
    assert ">Cancelled<" in section and ">Failed<" in section


def test_the_first_follow_up_is_worked_in_place_and_then_the_next_comes_up(client_for, data):
    client = client_for(data.A)
    l2, l4 = data.L[1], data.L[3]
    html = client.get(reverse("dashboards:counsellor")).text
    action = reverse("leads:record_outcome", args=[l2.uuid])
    assert f'hx-post="{action}"' in html  # the leads' one-step outcome form, for the first lead of the list
    response = client.post(action, {"stage": data.s.interested.pk, "note": "Sent the fee plan", "version": l2.version},
                           headers=HTMX)
    assert response.status_code == 200
    html = client.get(reverse("dashboards:counsellor"), headers={**HTMX, "HX-Target": "work-list"}).text
    assert re.search(r'id="work-current" data-lead="([^"]+)"', html).group(1) == str(l4.uuid)
    assert f'hx-post="{reverse("leads:record_outcome", args=[l4.uuid])}"' in html


def linked_numbers(html: str) -> list[tuple[str, int]]:
    """Every (lead-list URL, number) a page links."""
    found = re.findall(r'<a href="(/leads/[^"]*)" class="num-link"[^>]*>([\d,]+)</a>', html)
    return [(url.replace("&amp;", "&"), int(n.replace(",", ""))) for url, n in found]


@pytest.mark.parametrize(
    "who, page, params",
    [
        ("M", "dashboards:manager", {}),
        ("M", "dashboards:manager", {"counsellor": "B"}),
        ("M", "dashboards:manager", {"date_from": -12, "date_to": -9}),
        ("A", "dashboards:counsellor", {}),
        ("M", "dashboards:funnel", {}),
        ("A", "dashboards:funnel", {}),
        ("B", "dashboards:funnel", {"view": "chart"}),
        ("M", "dashboards:companies", {}),
        ("A", "dashboards:companies", {}),
    ],
)
def test_every_linked_number_is_the_count_the_lead_list_shows(client_for, data, who, page, params):
    params = {key: data.B.pk if value == "B" else data.today + timedelta(days=value) if isinstance(value, int) else value
              for key, value in params.items()}
    client = client_for(getattr(data, who))
    links = linked_numbers(client.get(reverse(page), params).text)
    assert len(links) >= (2 if page.endswith("companies") else 5)
    for url, n in links:
        response = client.get(url)
        assert response.status_code == 200
        assert (url, response.context["total"]) == (url, n)


@pytest.mark.parametrize("query", ["", "?counsellor={B}", "?date_from={start}&date_to={end}"])
def test_every_funnel_step_links_to_exactly_the_leads_that_reached_it(client_for, data, query):
    query = query.format(B=data.B.pk, start=data.today - timedelta(days=12), end=data.today - timedelta(days=9))
    scope = selectors.Scope(user=data.M, **DashboardFilterForm(QueryDict(query.lstrip("?"))).values())
    funnel = selectors.manager_dashboard(scope)["funnel"]
    assert len(funnel) == 10
    for step in funnel:
        assert step["url"] and listed(step["url"], data.M) == step["reached"], step["name"]
    html = client_for(data.M).get(reverse("dashboards:manager") + query).text
    first = funnel[0]
    assert f'href="{first["url"].replace("&", "&amp;")}"' in html


def test_a_counsellors_funnel_links_count_only_their_leads(data):
    funnel = selectors.funnel_report(selectors.Scope(user=data.A))["funnel"]
    for step in funnel:
        assert listed(step["url"], data.A) == step["reached"], step["name"]


def test_the_list_says_which_step_it_shows_and_ignores_a_step_outside_the_funnel(client_for, data):
    html = client_for(data.M).get(f"/leads/?reached={data.s.interested.pk}").text
    assert "Leads that reached Interested" in html
    assert listed(f"/leads/?reached={data.s.not_interested.pk}", data.M) == 0  # a lost stage is an exit, not a step
