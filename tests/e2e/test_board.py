"""The pipeline board in Chromium: drag and drop with the mouse, the keyboard "Move to…" dialog, the
reason asked on a lost stage, and a conflicting move that puts the card back."""

import pytest
from playwright.sync_api import expect

from crm.leads.models import Lead, StatusChange
from crm.leads.pipelines import load_pipeline
from tests.factories import LeadFactory, UserFactory, stage_named

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]
GAP = 1 << 20


@pytest.fixture
def board_page(page, live_server, browser_login):
    """A manager signed in; open(…) shows the board with every column loaded."""
    load_pipeline("admissions")  # whatever an earlier transactional test flushed (idempotent)
    manager = UserFactory(role="manager", email="board-manager@example.com", full_name="Meera Manager")
    browser_login(manager)

    def open_board():
        page.goto(f"{live_server.url}/pipeline/")
        expect(page.locator(".board-loading")).to_have_count(0)
        return page

    page.open_board = open_board
    page.manager = manager
    return page


def names(page, stage):
    return page.locator(f"#cards-{stage.pk} .board-card").evaluate_all("cards => cards.map(c => c.dataset.name)")


def card(page, lead):
    return page.locator(f"#card-{lead.uuid}")


def drag(page, source, target, *, above=True):
    """Press on an empty corner of `source`, move in small steps and release over `target`'s upper part
    (above=True) or lower part."""
    box, goal = source.bounding_box(), target.bounding_box()
    page.mouse.move(box["x"] + box["width"] - 12, box["y"] + box["height"] - 8)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] - 20, box["y"] + box["height"] - 20, steps=4)
    y = goal["y"] + (goal["height"] * 0.25 if above else goal["height"] * 0.75)
    page.mouse.move(goal["x"] + goal["width"] / 2, y, steps=25)
    page.wait_for_timeout(150)
    with page.expect_response(lambda response: "/pipeline/move/" in response.url) as response:
        page.mouse.up()
    return response.value


def test_drag_a_card_to_another_column_and_it_stays_there(board_page):
    page = board_page
    new, valid = stage_named("New"), stage_named("Valid")
    x = LeadFactory(name="Xavier Moved", stage=new, rank=GAP)
    a = LeadFactory(name="Anil First", stage=valid, rank=GAP)
    b = LeadFactory(name="Bina Second", stage=valid, rank=2 * GAP)
    page.open_board()
    assert names(page, valid) == ["Anil First", "Bina Second"]
    response = drag(page, card(page, x), card(page, b), above=True)
    assert response.status == 200
    expect(page.locator(f"#cards-{valid.pk} .board-card")).to_have_count(3)
    expect(page.locator(f"#col-head-{valid.pk} .board-count")).to_contain_text("3")
    expect(page.locator(f"#col-head-{new.pk} .board-count")).to_contain_text("0")
    page.reload()
    expect(page.locator(".board-loading")).to_have_count(0)
    assert names(page, valid) == ["Anil First", "Xavier Moved", "Bina Second"]
    assert names(page, new) == []
    changes = list(StatusChange.objects.filter(lead=x))
    assert len(changes) == 1 and (changes[0].from_stage, changes[0].to_stage) == (new, valid)
    assert a.pk and Lead.objects.get(pk=x.pk).stage == valid


def test_reorder_within_a_column_and_it_stays_in_that_order(board_page):
    page = board_page
    valid = stage_named("Valid")
    leads = [LeadFactory(name=name, stage=valid, rank=(i + 1) * GAP) for i, name in enumerate(["One", "Two", "Three"])]
    page.open_board()
    response = drag(page, card(page, leads[2]), card(page, leads[0]), above=True)
    assert response.status == 200
    assert names(page, valid) == ["Three", "One", "Two"]
    page.reload()
    expect(page.locator(".board-loading")).to_have_count(0)
    assert names(page, valid) == ["Three", "One", "Two"]
    assert not StatusChange.objects.exists()


def test_move_to_with_the_keyboard(board_page):
    page = board_page
    new, interested = stage_named("New"), stage_named("Interested")
    x = LeadFactory(name="Keya Keyboard", stage=new)
    LeadFactory(name="Already There", stage=interested)
    page.open_board()
    card(page, x).get_by_role("button", name="Move to…").focus()
    page.keyboard.press("Enter")
    dialog = page.get_by_role("dialog")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_label("Stage")).to_be_focused()
    page.keyboard.type("Interested")
    expect(dialog.get_by_label("Stage")).to_have_value(str(interested.pk))
    page.keyboard.press("Tab")  # place: at the top
    page.keyboard.press("Tab")  # Cancel
    page.keyboard.press("Tab")  # Move
    expect(dialog.get_by_role("button", name="Move", exact=True)).to_be_focused()
    with page.expect_response(lambda response: "/pipeline/move/" in response.url):
        page.keyboard.press("Enter")
    expect(page.locator(f"#cards-{interested.pk} .board-card").first).to_have_attribute("data-name", "Keya Keyboard")
    expect(card(page, x).get_by_role("button", name="Move to…")).to_be_focused()
    page.reload()
    expect(page.locator(".board-loading")).to_have_count(0)
    assert names(page, interested) == ["Keya Keyboard", "Already There"]
    assert StatusChange.objects.filter(lead=x, to_stage=interested).count() == 1


def test_a_drop_on_a_lost_stage_asks_for_the_reason(board_page):
    page = board_page
    new, lost = stage_named("New"), stage_named("Invalid")  # a lost stage, next to New on the screen
    x = LeadFactory(name="Lost Lata", stage=new)
    page.open_board()
    box, goal = card(page, x).bounding_box(), page.locator(f"#cards-{lost.pk}").bounding_box()
    page.mouse.move(box["x"] + box["width"] - 12, box["y"] + box["height"] - 8)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] - 20, box["y"] + box["height"] - 20, steps=4)
    page.mouse.move(goal["x"] + goal["width"] / 2, goal["y"] + 30, steps=25)
    page.mouse.up()
    dialog = page.get_by_role("dialog")
    expect(dialog.get_by_label("Reason for losing the lead (optional)")).to_be_focused()
    page.keyboard.type("Fees too high")
    with page.expect_response(lambda response: "/pipeline/move/" in response.url):
        dialog.get_by_role("button", name="Move", exact=True).click()
    expect(page.locator(f"#cards-{lost.pk} .board-card")).to_have_count(1)
    change = StatusChange.objects.get(lead=x)
    assert (change.to_stage, change.note) == (lost, "Fees too high")


def test_a_conflicting_move_puts_the_card_back_with_a_message(board_page):
    page = board_page
    new, valid, interested = stage_named("New"), stage_named("Valid"), stage_named("Interested")
    x = LeadFactory(name="Clash Chandran", stage=new, rank=GAP)
    LeadFactory(name="Stays New", stage=new, rank=2 * GAP)
    target = LeadFactory(name="Valid One", stage=valid)
    page.open_board()
    # someone else moves the lead while this board is open
    Lead.objects.filter(pk=x.pk).update(stage=interested, version=2)
    response = drag(page, card(page, x), card(page, target), above=True)
    assert response.status == 409
    expect(page.locator(".toast")).to_contain_text("Someone else changed this lead")
    expect(page.locator(f"#cards-{interested.pk} .board-card")).to_have_count(1)
    assert names(page, valid) == ["Valid One"]
    assert names(page, new) == ["Stays New"]
    assert names(page, interested) == ["Clash Chandran"]
    assert Lead.objects.get(pk=x.pk).stage == interested and not StatusChange.objects.exists()


def test_a_network_error_puts_the_card_back(board_page):
    page = board_page
    new, valid = stage_named("New"), stage_named("Valid")
    x = LeadFactory(name="Offline Omana", stage=new, rank=GAP)
    target = LeadFactory(name="Valid One", stage=valid)
    page.open_board()
    page.route("**/pipeline/move/", lambda route: route.abort("internetdisconnected"))
    box, goal = card(page, x).bounding_box(), card(page, target).bounding_box()
    page.mouse.move(box["x"] + box["width"] - 12, box["y"] + box["height"] - 8)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] - 20, box["y"] + box["height"] - 20, steps=4)
    page.mouse.move(goal["x"] + goal["width"] / 2, goal["y"] + goal["height"] * 0.25, steps=25)
    page.mouse.up()
    expect(page.locator(".toast")).to_contain_text("could not be reached")
    expect(page.locator(f"#cards-{new.pk} .board-card")).to_have_count(1)
    assert names(page, valid) == ["Valid One"]
    assert names(page, new) == ["Offline Omana"]
    assert Lead.objects.get(pk=x.pk).stage == new


def test_a_long_column_loads_more_cards_when_scrolled(board_page):
    page = board_page
    valid = stage_named("Valid")
    for i in range(32):
        LeadFactory(name=f"Card {i:02d}", stage=valid, rank=i)
    page.open_board()
    cards = page.locator(f"#cards-{valid.pk} .board-card")
    expect(cards).to_have_count(25)
    expect(page.locator(f"#col-head-{valid.pk} .board-count")).to_contain_text("32")
    page.locator(f"#cards-{valid.pk}").evaluate("list => { list.scrollTop = list.scrollHeight; }")
    expect(cards).to_have_count(32)
    assert names(page, valid) == [f"Card {i:02d}" for i in range(32)]
    expect(page.locator(f"#cards-{valid.pk} .board-more")).to_have_count(0)
