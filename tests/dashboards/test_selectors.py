"""Every number of the dashboards against the hand-built data set in conftest.py (answers written out here)."""

from datetime import timedelta

import pytest

from crm.dashboards import selectors
from crm.dashboards.selectors import Scope

pytestmark = pytest.mark.django_db

STAGES = ["New", "Invalid", "Valid", "Call not attended", "Plan presented", "Interested", "Not interested",
          "Follow-up", "Shortlisted", "Campus visit", "Registration", "Admission"]
STEPS = ["New", "Valid", "Call not attended", "Plan presented", "Interested", "Follow-up", "Shortlisted",
         "Campus visit", "Registration", "Admission"]


def by_name(rows, key="count"):
    return {row["name"]: row[key] for row in rows}


def test_manager_totals(data):
    numbers = selectors.manager_dashboard(Scope(user=data.M))
    t = numbers["totals"]
    monday_is_today = data.monday == data.today
    assert (t["all"], t["assigned"], t["unassigned"], t["overdue"]) == (9, 7, 2, 2)
    assert t["new_today"] == (3 if monday_is_today else 2)  # L3, L4 (and L5 on a Monday)
    assert t["new_week"] == 3  # L3, L4, L5


def test_stage_distribution_is_zero_filled_and_in_pipeline_order(data):
    stages = selectors.manager_dashboard(Scope(user=data.M))["stages"]
    assert [s["name"] for s in stages] == STAGES
    assert [s["count"] for s in stages] == [2, 1, 1, 0, 0, 1, 1, 0, 1, 0, 0, 2]
    assert by_name(stages, "percent")["New"] == 22.2  # 2 of 9


def test_funnel_reached_conversion_and_drop_off(data):
    funnel = selectors.manager_dashboard(Scope(user=data.M))["funnel"]
    assert [r["name"] for r in funnel] == STEPS
    assert [r["reached"] for r in funnel] == [9, 6, 5, 5, 4, 3, 3, 3, 2, 2]
    assert [r["conversion"] for r in funnel] == [None, 66.7, 83.3, 100.0, 80.0, 75.0, 100.0, 100.0, 66.7, 100.0]
    assert [r["drop_off"] for r in funnel] == [None, 33.3, 16.7, 0.0, 20.0, 25.0, 0.0, 0.0, 33.3, 0.0]


def test_won_of_total_and_of_closed(data):
    outcomes = selectors.manager_dashboard(Scope(user=data.M))["outcomes"]
    assert (outcomes["won"], outcomes["lost"], outcomes["closed"], outcomes["total"]) == (2, 2, 4, 9)
    assert (outcomes["won_of_total"], outcomes["won_of_closed"]) == (22.2, 50.0)


def test_per_counsellor_table(data):
    rows = {r["name"]: r for r in selectors.manager_dashboard(Scope(user=data.M))["counsellors"]}
    assert set(rows) == {"Sunil Sales", "Salma Sales", "Chitra Counsellor"}
    sunil, salma, chitra = rows["Sunil Sales"], rows["Salma Sales"], rows["Chitra Counsellor"]
    assert (sunil["assigned"], sunil["contacted"], sunil["won"], sunil["conversion"], sunil["overdue"]) == (4, 3, 1, 25.0, 1)
    assert (salma["assigned"], salma["contacted"], salma["won"], salma["conversion"], salma["overdue"]) == (3, 3, 1, 33.3, 1)
    assert (chitra["assigned"], chitra["won"], chitra["conversion"], chitra["median_seconds"]) == (0, 0, None, None)
    assert [c["count"] for c in sunil["stage_cells"]] == [1, 0, 0, 0, 0, 1, 1, 0, 0, 0, 0, 1]
    assert [c["count"] for c in salma["stage_cells"]] == [0, 0, 1, 0, 0, 0, 0, 0, 1, 0, 0, 1]


def test_median_time_from_assignment_to_first_contact(data):
    month = Scope(user=data.M, date_from=data.today - timedelta(days=29), date_to=data.today)
    rows = {r["name"]: r for r in selectors.manager_dashboard(month)["counsellors"]}
    # Sunil: L2 2 h, L3 30 min (L1 was created before the range; L4 never contacted) -> 1 h 15 min.
    assert (rows["Sunil Sales"]["median_seconds"], rows["Sunil Sales"]["median_leads"]) == (4500, 2)
    assert rows["Sunil Sales"]["median_text"] == "1 h 15 min"
    # Salma: L5 4 h (a move before the assignment does not count), L6 10 h, L7 1 h -> 4 h.
    assert (rows["Salma Sales"]["median_seconds"], rows["Salma Sales"]["median_leads"]) == (14400, 3)
    assert rows["Chitra Counsellor"]["median_seconds"] is None


def test_median_first_contact_covers_the_last_7_days_without_a_date_filter(data):
    rows = {r["name"]: r for r in selectors.manager_dashboard(Scope(user=data.M))["counsellors"]}
    assert (rows["Sunil Sales"]["median_seconds"], rows["Sunil Sales"]["median_leads"]) == (1800, 1)  # L3
    assert (rows["Salma Sales"]["median_seconds"], rows["Salma Sales"]["median_leads"]) == (14400, 1)  # L5
    rows = selectors.manager_dashboard(Scope(user=data.M, counsellor_id=data.B.pk))["counsellors"]
    assert [(r["name"], r["median_seconds"]) for r in rows] == [("Salma Sales", 14400)]


def test_sorting_the_counsellor_table(data):
    rows = selectors.manager_dashboard(Scope(user=data.M))["counsellors"]
    names = lambda sort: [r["name"] for r in selectors.sort_counsellors(rows, sort)]  # noqa: E731
    assert names("name") == ["Chitra Counsellor", "Salma Sales", "Sunil Sales"]
    assert names("-assigned") == ["Sunil Sales", "Salma Sales", "Chitra Counsellor"]
    assert names("-conversion") == ["Salma Sales", "Sunil Sales", "Chitra Counsellor"]  # no conversion: last
    assert names("median") == ["Sunil Sales", "Salma Sales", "Chitra Counsellor"]  # 30 min, 4 h, none
    assert names("nonsense") == names("name")


def test_new_leads_and_wins_per_day(data):
    daily = selectors.manager_dashboard(Scope(user=data.M))["daily"]
    days = {r["day"]: r for r in daily["rows"]}
    assert len(days) == 30 and min(days) == data.today - timedelta(days=29) and max(days) == data.today
    assert (daily["new_total"], daily["wins_total"]) == (8, 1)  # L1 was created before the 30 days
    assert days[data.today - timedelta(days=5)]["wins"] == 1  # L1 entered Admission 5 days ago
    expected_today = 3 if data.monday == data.today else 2
    assert days[data.today]["new"] == expected_today
    assert days[data.today - timedelta(days=10)]["new"] == 1  # L2


def test_leads_by_source_ignores_case_like_the_list_filter(data):
    rows = selectors.manager_dashboard(Scope(user=data.M))["sources"]["rows"]
    assert [(r["source"], r["count"]) for r in rows] == [
        ("Website", 4), ("Referral", 2), ("(none)", 1), ("Cold Call", 1), ("Walk-in", 1)
    ]
    assert rows[2]["url"] is None  # the list has no "no source" choice


def test_counsellor_filter_narrows_every_number(data):
    numbers = selectors.manager_dashboard(Scope(user=data.M, counsellor_id=data.B.pk))
    assert (numbers["totals"]["all"], numbers["totals"]["assigned"], numbers["totals"]["unassigned"]) == (3, 3, 0)
    assert [s["count"] for s in numbers["stages"]] == [0, 0, 1, 0, 0, 0, 0, 0, 1, 0, 0, 1]
    assert [r["reached"] for r in numbers["funnel"]] == [3, 3, 2, 2, 2, 2, 2, 2, 1, 1]
    assert (numbers["outcomes"]["won_of_total"], numbers["outcomes"]["won_of_closed"]) == (33.3, 100.0)
    assert [r["name"] for r in numbers["counsellors"]] == ["Salma Sales"]
    assert numbers["daily"]["new_total"] == 3  # L5, L6, L7
    assert numbers["daily"]["wins_total"] == 0


def test_date_filter_counts_leads_created_in_the_range(data):
    scope = Scope(user=data.M, date_from=data.today - timedelta(days=12), date_to=data.today - timedelta(days=9))
    numbers = selectors.manager_dashboard(scope)
    assert (numbers["totals"]["all"], numbers["totals"]["assigned"], numbers["totals"]["unassigned"]) == (3, 1, 2)
    assert by_name(numbers["stages"])["Interested"] == 1 and by_name(numbers["stages"])["Invalid"] == 1
    assert [r["reached"] for r in numbers["funnel"]][:5] == [3, 1, 1, 1, 1]  # L8, L9 at New; L2 to Interested
    assert numbers["totals"]["new_today"] == 0
    assert len(numbers["daily"]["rows"]) == 4 and numbers["daily"]["new_total"] == 3


def test_counsellor_home_numbers(data):
    numbers = selectors.counsellor_numbers(selectors.my_scope(data.A))
    o = numbers["outcomes"]
    assert (o["total"], o["won"], o["lost"], o["won_of_total"], o["won_of_closed"]) == (4, 1, 1, 25.0, 50.0)
    assert [s["count"] for s in numbers["stages"]] == [1, 0, 0, 0, 0, 1, 1, 0, 0, 0, 0, 1]
    assert (numbers["overdue"], numbers["due_today"], numbers["contacted"], numbers["not_contacted"]) == (1, 1, 3, 1)


def test_work_list_overdue_first_with_the_follow_up_note(data):
    work = selectors.work_list(data.A)
    assert [item["lead"].name for item in work["leads"]] == ["L2", "L4"]
    assert work["leads"][0]["note"] == "Ask about the fees"
    assert (work["total"], work["overdue"], work["due_today"]) == (2, 1, 1)
    assert [item["lead"].name for item in selectors.work_list(data.B)["leads"]] == ["L6"]
    assert selectors.work_list(data.C)["leads"] == []


def test_newly_assigned_since_last_seen(data):
    assert selectors.newly_assigned(data.A)["count"] == 2  # never looked: the last 7 days (L3, L4)
    data.A.assignments_seen_at = data.now - timedelta(minutes=100)
    new = selectors.newly_assigned(data.A)
    assert (new["count"], [lead.name for lead in new["leads"]]) == (1, ["L4"])


def test_newly_assigned_counts_up_to_a_cap(data, monkeypatch):
    monkeypatch.setattr(selectors.counsellor, "NEW_COUNT_CAP", 1)
    new = selectors.newly_assigned(data.A)
    assert (new["count"], new["more"], [lead.name for lead in new["leads"]]) == (1, True, ["L4", "L3"])


def test_my_last_status_changes_are_mine_and_on_my_leads(data):
    changes = selectors.recent_status_changes(data.A)
    assert [(c.lead.name, c.to_stage.name) for c in changes] == [
        ("L3", "Not interested"), ("L3", "Plan presented"), ("L3", "Valid"), ("L1", "Admission"),
        ("L2", "Interested"), ("L2", "Valid"), ("L1", "Interested"), ("L1", "Valid"),
    ]  # not L6's moves: L6 is Salma's now


def test_my_leads_most_recently_updated_first(data):
    assert [lead.name for lead in selectors.recently_updated(data.A)] == ["L4", "L3", "L2", "L1"]


def test_funnel_report_for_a_manager(data):
    report = selectors.funnel_report(Scope(user=data.M))
    assert (report["created_recent"], report["activities_total"], report["activities_recent"]) == (8, 7, 6)
    assert [(r["name"], r["count"]) for r in report["by_counsellor"]] == [
        ("Sunil Sales", 4), ("Salma Sales", 3), ("Unassigned", 2)
    ]
    assert [r["reached"] for r in report["funnel"]] == [9, 6, 5, 5, 4, 3, 3, 3, 2, 2]


def test_funnel_report_for_a_counsellor_counts_only_their_leads(data):
    report = selectors.funnel_report(Scope(user=data.A))
    assert (report["created_recent"], report["activities_total"], report["activities_recent"]) == (3, 3, 2)
    assert [(r["name"], r["count"]) for r in report["by_counsellor"]] == [("Sunil Sales", 4)]
    assert [s["count"] for s in report["stages"]] == [1, 0, 0, 0, 0, 1, 1, 0, 0, 0, 0, 1]
    # L1 -> 9, L2 -> 4, L3 -> 3, L4 -> 0
    assert [r["reached"] for r in report["funnel"]] == [4, 3, 3, 3, 2, 1, 1, 1, 1, 1]
    assert (report["outcomes"]["won_of_total"], report["outcomes"]["won_of_closed"]) == (25.0, 50.0)


def test_companies_report_for_a_manager(data):
    report = selectors.companies_report(data.M)
    assert (report["total"], report["with_linkedin"], report["recent"]) == (4, 2, 2)
    assert (report["avg_employees"], float(report["avg_revenue"])) == (200, 2_000_000)
    assert [(r["industry"], r["n"], r["leads"]) for r in report["industries"]] == [("Education", 2, 3), ("IT", 1, 1)]
    assert [(r["country"], r["n"]) for r in report["countries"]] == [("India", 2), ("Singapore", 1)]
    assert (report["leads_with_company"], report["leads_with_linkedin"]) == (4, 3)


def test_companies_report_for_a_counsellor_counts_the_companies_of_their_leads(data):
    report = selectors.companies_report(data.A)
    assert (report["total"], report["with_linkedin"], report["recent"]) == (2, 1, 1)
    assert (report["avg_employees"], float(report["avg_revenue"])) == (200, 1_000_000)
    assert [(r["industry"], r["n"], r["leads"]) for r in report["industries"]] == [("Education", 1, 1), ("IT", 1, 1)]
    assert (report["leads_with_company"], report["leads_with_linkedin"]) == (2, 1)
    report = selectors.companies_report(data.B)
    assert (report["total"], report["with_linkedin"], report["avg_employees"]) == (2, 2, 100)
    assert [(r["industry"], r["n"], r["leads"]) for r in report["industries"]] == [("Education", 2, 2)]


def test_funnel_reads_where_a_lead_came_from_and_ignores_leads_never_in_a_step(manager):
    from crm.leads.models import StatusChange
    from tests.factories import LeadFactory, stage_named

    def lead(stage, *moves):
        obj = LeadFactory(stage=stage_named(stage))
        for source, target in moves:
            StatusChange.objects.create(lead=obj, from_stage=source and stage_named(source),
                                        to_stage=stage_named(target), at=obj.created_at)
        return obj

    lead("Interested", ("Campus visit", "Interested"))  # imported at Campus visit (no creation row), moved back
    lead("Not interested", (None, "New"), ("New", "Not interested"))
    lead("Invalid")  # never in a step: not in the funnel
    lead("Registration", (None, "New"), ("New", "Valid"), ("Valid", "Registration"))
    funnel = selectors.manager_dashboard(Scope(user=manager))["funnel"]
    assert [r["reached"] for r in funnel] == [3, 2, 2, 2, 2, 2, 2, 2, 1, 0]
    assert funnel[-1]["conversion"] == 0.0 and funnel[-1]["drop_off"] == 100.0
