"""The board's pages: who sees what, filters, column pages, and the move endpoint (JSON for the board's
script, redirect for a plain form post)."""

import json
import re
from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from crm.leads import board
from crm.leads.models import Lead, StatusChange
from tests.factories import LeadFactory, UserFactory, stage_named

pytestmark = pytest.mark.django_db
HX = {"HX-Request": "true"}
JSON = {"Accept": "application/json"}


def column_url(stage, query=""):
    return reverse("leads:pipeline_column", args=[stage.pk]) + (f"?{query}" if query else "")


def names_in(response):
    """The names on the cards of a response, in the order shown."""
    by_uuid = {str(u): name for u, name in Lead.objects.values_list("uuid", "name")}
    return [by_uuid[u] for u in re.findall(r'data-lead="([0-9a-f-]{36})"', response.content.decode())]


def post_move(client, lead, stage, **fields):
    lead.refresh_from_db()
    data = {"lead": lead.uuid, "stage": stage.pk, "version": lead.version, **fields}
    return client.post(reverse("leads:pipeline_move"), data, headers=JSON)


def test_the_board_has_a_column_per_active_stage_loading_itself(client_for, manager):
    inactive = stage_named("Invalid")
    inactive.is_active = False
    inactive.save()
    response = client_for(manager).get(reverse("leads:pipeline"))
    assert response.status_code == 200
    html = response.content.decode()
    assert html.count('class="board-col"') == 11
    assert f'id="col-title-{inactive.pk}"' not in html
    assert f'hx-get="{column_url(stage_named("New"))}"' in html
    assert 'hx-trigger="load, board-reload"' in html
    assert "vendor/sortablejs/Sortable.min.js" in html and "crm/js/board.js" in html and "crm/css/board.css" in html
    assert "onclick" not in html and "hx-on" not in html


def test_anonymous_users_are_sent_to_sign_in(client):
    response = client.get(reverse("leads:pipeline"))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    assert client.get(column_url(stage_named("New"))).status_code == 302
    assert client.post(reverse("leads:pipeline_move"), {}).status_code == 302


def test_a_column_shows_cards_with_their_facts_and_its_totals(client_for, manager, sales):
    valid = stage_named("Valid")
    now = timezone.now()
    overdue = LeadFactory(name="Overdue Olivia", stage=valid, assigned_to=sales, value=250000, rank=1,
                          next_follow_up_at=now - timedelta(days=2), stage_changed_at=now - timedelta(days=9))
    LeadFactory(name="Later Lal", stage=valid, rank=2, next_follow_up_at=now + timedelta(days=2))
    response = client_for(manager).get(column_url(valid), headers=HX)
    assert response.status_code == 200
    html = response.content.decode()
    assert names_in(response) == ["Overdue Olivia", "Later Lal"]
    assert f'id="col-head-{valid.pk}" style="--stage-colour: {valid.colour}" hx-swap-oob="true"' in html
    assert ">2<span" in html and "2.5 L" in html
    assert overdue.phone in html and "SS" in html  # Sunil Sales' initials
    assert html.count("board-overdue") == 1
    assert "9 days" in html
    assert "Move to…" in html


def test_load_more_pages_through_a_long_column(client_for, manager):
    valid = stage_named("Valid")
    for i in range(60):
        LeadFactory(name=f"L{i:02d}", stage=valid, rank=i)
    client = client_for(manager)
    first = client.get(column_url(valid), headers=HX)
    assert names_in(first) == [f"L{i:02d}" for i in range(25)]
    cursor = first.content.decode().split("after=")[1].split('"')[0]
    second = client.get(column_url(valid, f"after={cursor}"), headers=HX)
    assert names_in(second) == [f"L{i:02d}" for i in range(25, 50)]
    assert "col-head-" not in second.content.decode()  # later pages do not recount the column
    cursor = second.content.decode().split("after=")[1].split('"')[0]
    third = client.get(column_url(valid, f"after={cursor}"), headers=HX)
    assert names_in(third) == [f"L{i:02d}" for i in range(50, 60)]
    assert "Load more" not in third.content.decode()


def test_without_javascript_a_column_is_a_page_of_its_own(client_for, manager):
    valid = stage_named("Valid")
    LeadFactory(name="Plain Page", stage=valid)
    response = client_for(manager).get(column_url(valid))
    assert response.status_code == 200
    html = response.content.decode()
    assert "<html" in html and "Pipeline: Valid" in html and "Plain Page" in html


def test_a_sales_user_sees_only_their_own_cards_and_counts(client_for, sales, other_sales):
    valid = stage_named("Valid")
    LeadFactory(name="Mine", stage=valid, assigned_to=sales)
    theirs = LeadFactory(name="Theirs", stage=valid, assigned_to=other_sales)
    LeadFactory(name="Nobody's", stage=valid)
    client = client_for(sales)
    response = client.get(column_url(valid), headers=HX)
    assert names_in(response) == ["Mine"]
    assert 'title="1 lead"' in response.content.decode()
    assert theirs.phone not in response.content.decode()
    # the counsellor filter is a manager's: a sales user cannot use it to look at someone else's leads
    response = client.get(column_url(valid, f"counsellor={other_sales.pk}"), headers=HX)
    assert names_in(response) == ["Mine"]
    assert 'name="counsellor"' not in client.get(reverse("leads:pipeline")).content.decode()


def test_managers_filter_by_counsellor_search_source_and_follow_up(client_for, manager, sales, other_sales):
    valid = stage_named("Valid")
    now = timezone.now()
    LeadFactory(name="Asha Pillai", stage=valid, assigned_to=sales, source="Referral", rank=1,
                next_follow_up_at=now - timedelta(days=1))
    LeadFactory(name="Bala Iyer", stage=valid, assigned_to=other_sales, source="Website", rank=2)
    LeadFactory(name="Chitra Nair", stage=valid, assigned_to=sales, source="Website", rank=3)
    client = client_for(manager)
    assert names_in(client.get(column_url(valid), headers=HX)) == ["Asha Pillai", "Bala Iyer", "Chitra Nair"]
    assert names_in(client.get(column_url(valid, f"counsellor={sales.pk}"), headers=HX)) == ["Asha Pillai", "Chitra Nair"]
    assert names_in(client.get(column_url(valid, "q=bala"), headers=HX)) == ["Bala Iyer"]
    assert names_in(client.get(column_url(valid, "source=Website"), headers=HX)) == ["Bala Iyer", "Chitra Nair"]
    assert names_in(client.get(column_url(valid, "follow_up=overdue"), headers=HX)) == ["Asha Pillai"]
    # the board (htmx) carries the filters to every column and into the URL of each column's request
    response = client.get(reverse("leads:pipeline") + f"?q=bala&counsellor={other_sales.pk}&page=3", headers=HX)
    html = response.content.decode()
    assert html.lstrip().startswith('<div id="board"')
    assert f'data-filters="counsellor={other_sales.pk}&amp;q=bala"' in html
    assert column_url(valid, f"counsellor={other_sales.pk}&amp;q=bala") in html


def test_a_move_answers_the_fresh_card_and_both_columns_counts(client_for, manager):
    new, valid = stage_named("New"), stage_named("Valid")
    a = LeadFactory(name="A", stage=valid, rank=board.GAP)
    b = LeadFactory(name="B", stage=valid, rank=2 * board.GAP)
    x = LeadFactory(name="X", stage=new)
    LeadFactory(name="Y", stage=new)
    response = post_move(client_for(manager), x, valid, before=a.uuid, after=b.uuid)
    assert response.status_code == 200
    body = response.json()
    assert body["stage"] == valid.pk and body["version"] == 2
    assert f'data-lead="{x.uuid}"' in body["card"] and 'data-version="2"' in body["card"]
    assert set(body["columns"]) == {str(new.pk), str(valid.pk)}
    assert body["columns"][str(valid.pk)]["count"] == 3
    assert 'title="3 leads"' in body["columns"][str(valid.pk)]["head"]
    assert 'title="1 lead"' in body["columns"][str(new.pk)]["head"]
    assert list(Lead.objects.filter(stage=valid).order_by("rank", "pk").values_list("name", flat=True)) == ["A", "X", "B"]
    assert StatusChange.objects.filter(lead=x, from_stage=new, to_stage=valid).count() == 1


def test_after_a_move_a_big_filtered_column_gets_its_count_and_keeps_its_estimated_value(client_for, manager,
                                                                                        monkeypatch):
    """A filter the stage tally does not know (here the source) counts the leads themselves: a big column's
    value stays the estimate its header shows."""
    monkeypatch.setattr(board, "EXACT_VALUE_MAX", 2)
    new, valid = stage_named("New"), stage_named("Valid")
    for i in range(3):
        LeadFactory(stage=valid, rank=i, value=10, source="Website")
    LeadFactory(stage=valid, value=1000, source="Referral")
    x = LeadFactory(stage=new, value=5, source="Website")
    body = post_move(client_for(manager), x, valid, filters="source=Website").json()
    assert body["columns"][str(valid.pk)] == {"count": 4, "count_display": "4", "head": None}
    assert body["columns"][str(new.pk)]["count"] == 0 and 'title="0 leads"' in body["columns"][str(new.pk)]["head"]


def test_after_a_move_an_unfiltered_big_column_gets_its_exact_count_and_value_from_the_tally(client_for, manager,
                                                                                            sales, monkeypatch):
    monkeypatch.setattr(board, "EXACT_VALUE_MAX", 2)
    new, valid = stage_named("New"), stage_named("Valid")
    for i in range(3):
        LeadFactory(stage=valid, rank=i, value=10, assigned_to=sales)
    LeadFactory(stage=valid, value=1000)
    x = LeadFactory(stage=new, value=5, assigned_to=sales)
    body = post_move(client_for(manager), x, valid).json()
    assert body["columns"][str(valid.pk)]["count"] == 5
    assert 'title="5 leads"' in body["columns"][str(valid.pk)]["head"] and "1,035" in body["columns"][str(valid.pk)]["head"]
    x.refresh_from_db()
    mine = post_move(client_for(sales), x, new).json()  # a counsellor's board counts their own leads
    assert mine["columns"][str(valid.pk)]["count"] == 3 and "30<" in mine["columns"][str(valid.pk)]["head"]
    assert mine["columns"][str(new.pk)]["count"] == 1


def test_a_stale_version_answers_409_with_where_the_server_has_the_card(client_for, manager):
    new, valid, interested = stage_named("New"), stage_named("Valid"), stage_named("Interested")
    x = LeadFactory(name="X", stage=new)
    client = client_for(manager)
    stale_version = x.version
    assert post_move(client, x, interested).status_code == 200  # someone else moved it first
    response = client.post(reverse("leads:pipeline_move"),
                           {"lead": x.uuid, "stage": valid.pk, "version": stale_version}, headers=JSON)
    assert response.status_code == 409
    body = response.json()
    assert body["stage"] == interested.pk and "Someone else changed this lead" in body["error"]
    assert f'data-version="{x.version + 1}"' in body["card"]
    assert Lead.objects.get(pk=x.pk).stage == interested
    assert StatusChange.objects.filter(lead=x).count() == 1


def test_a_sales_user_cannot_move_someone_elses_card(client_for, sales, other_sales):
    new, valid = stage_named("New"), stage_named("Valid")
    theirs = LeadFactory(name="Theirs", stage=new, assigned_to=other_sales, rank=7)
    client = client_for(sales)
    response = post_move(client, theirs, valid)
    assert response.status_code == 404
    assert "not found" in response.json()["error"]
    plain = client.post(reverse("leads:pipeline_move"), {"lead": theirs.uuid, "stage": valid.pk, "version": 1})
    assert plain.status_code == 404
    theirs_now = Lead.objects.get(pk=theirs.pk)
    assert (theirs_now.stage, theirs_now.version, theirs_now.rank) == (new, 1, 7)
    assert not StatusChange.objects.filter(lead=theirs).exists()


def test_bad_input_is_refused_with_a_message(client_for, manager):
    new = stage_named("New")
    x = LeadFactory(stage=new)
    client = client_for(manager)
    response = client.post(reverse("leads:pipeline_move"), {"lead": "not-a-uuid", "stage": new.pk}, headers=JSON)
    assert response.status_code == 422 and "lead" in response.json()["error"] and "version" in response.json()["error"]
    response = post_move(client, x, new, value="-5")
    assert response.status_code == 422 and "value" in response.json()["error"]
    inactive = stage_named("Invalid")
    inactive.is_active = False
    inactive.save()
    response = post_move(client, x, inactive)
    assert response.status_code == 422 and "active stages" in response.json()["error"]
    assert Lead.objects.get(pk=x.pk).version == 1


def test_the_move_to_form_works_without_javascript(client_for, manager):
    new, lost = stage_named("New"), stage_named("Not interested")
    x = LeadFactory(name="Form Post", stage=new)
    response = client_for(manager).post(
        reverse("leads:pipeline_move"),
        {"lead": x.uuid, "stage": lost.pk, "version": 1, "position": "bottom", "note": "Too far away", "filters": "q=form"},
        follow=True,
    )
    assert response.redirect_chain[-1][0] == reverse("leads:pipeline") + "?q=form"
    assert "Moved Form Post to Not interested." in response.content.decode()
    change = StatusChange.objects.get(lead=x)
    assert (change.to_stage, change.note) == (lost, "Too far away")


def test_a_move_needs_the_csrf_token_the_board_sends_in_a_header(manager):
    x = LeadFactory(stage=stage_named("New"))
    client = Client(enforce_csrf_checks=True)
    client.force_login(manager)
    page = client.get(reverse("leads:pipeline"))
    token = json.loads(page.content.decode().split("hx-headers='")[1].split("'")[0])["x-csrftoken"]
    data = {"lead": x.uuid, "stage": stage_named("Valid").pk, "version": 1}
    assert client.post(reverse("leads:pipeline_move"), data, headers=JSON).status_code == 403
    assert Lead.objects.get(pk=x.pk).version == 1
    response = client.post(reverse("leads:pipeline_move"), data, headers={**JSON, "X-CSRFToken": token})
    assert response.status_code == 200
    assert Lead.objects.get(pk=x.pk).stage == stage_named("Valid")


def test_admins_see_the_whole_board(client_for):
    admin = UserFactory(role="admin", email="boss@example.com")
    LeadFactory(name="Anyone's", stage=stage_named("Valid"))
    response = client_for(admin).get(column_url(stage_named("Valid")), headers=HX)
    assert names_in(response) == ["Anyone's"]
