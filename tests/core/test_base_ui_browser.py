"""The site's frame in Chromium: phone layout, toasts for messages, the htmx error handler, data-confirm."""

import pytest
from playwright.sync_api import expect

from tests.factories import UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def signed_in(page, live_server, browser_login):
    user = UserFactory(email="sunil@example.com", full_name="Sunil Sales", role="sales")
    browser_login(user)
    errors = []
    page.on("console", lambda message: message.type == "error" and errors.append(message.text))
    page.console_errors = errors
    page.goto(f"{live_server.url}/accounts/profile/")
    return page


def add_probe(page, html):
    """Put a piece of htmx markup on the page, as an app's template would."""
    page.evaluate(
        """html => {
            const box = document.createElement("div");
            box.innerHTML = html;
            document.querySelector("main").prepend(box);
            htmx.process(box);
        }""",
        html,
    )


def test_navbar_collapses_on_a_phone(signed_in, live_server):
    page = signed_in
    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()
    toggler = page.get_by_role("button", name="Menu")
    expect(toggler).to_be_visible()
    profile_menu = page.locator("#main-nav")
    expect(profile_menu).to_be_hidden()
    toggler.click()
    expect(profile_menu).to_be_visible()
    expect(page.locator("#main-nav").get_by_role("link", name="Home")).to_be_visible()
    # The page fits the screen: nothing sticks out sideways.
    assert page.evaluate("document.documentElement.scrollWidth") <= 390


def test_navbar_is_open_on_a_desktop(signed_in):
    page = signed_in
    page.set_viewport_size({"width": 1280, "height": 800})
    expect(page.get_by_role("button", name="Menu")).to_be_hidden()
    expect(page.locator("#main-nav").get_by_role("link", name="Home")).to_be_visible()


def test_messages_show_as_dismissable_toasts(signed_in):
    page = signed_in
    page.get_by_label("Full name").fill("Sunil S")
    page.get_by_role("button", name="Save").click()
    toast = page.locator("#toasts .toast", has_text="Your profile is saved.")
    expect(toast).to_be_visible()
    toast.get_by_role("button", name="Close").click()
    expect(toast).to_have_count(0)


def test_sign_out_is_a_post_and_says_so(signed_in, live_server):
    page = signed_in
    page.locator("#main-nav .dropdown-toggle").last.click()
    page.get_by_role("button", name="Sign out").click()
    expect(page.locator("#toasts .toast", has_text="You have signed out.")).to_be_visible()
    page.goto(f"{live_server.url}/accounts/profile/")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()


@pytest.mark.parametrize(
    ("url", "toast"),
    [
        ("/no-such-page/", "That was not found."),
        ("/accounts/users/", "You are not allowed to do that"),
    ],
)
def test_htmx_errors_show_a_toast_and_leave_the_fragment_alone(signed_in, url, toast):
    page = signed_in
    add_probe(page, f'<button id="probe" hx-get="{url}" hx-target="#probe-target">Load</button><div id="probe-target">untouched</div>')
    page.locator("#probe").click()
    expect(page.locator("#toasts .toast", has_text=toast)).to_be_visible()
    expect(page.locator("#probe-target")).to_have_text("untouched")
    assert "Not found" not in page.locator("main").inner_text().split("untouched")[0]


def test_htmx_error_uses_the_servers_message(signed_in):
    page = signed_in
    # A POST whose CSRF header is wrong: the server's X-Error-Message becomes the toast.
    add_probe(
        page,
        '<button id="probe" hx-post="/accounts/profile/" hx-headers=\'{"x-csrftoken": "wrong"}\' '
        'hx-target="#probe-target">Save</button><div id="probe-target">untouched</div>',
    )
    page.locator("#probe").click()
    expect(page.locator("#toasts .toast", has_text="The form had expired")).to_be_visible()
    expect(page.locator("#probe-target")).to_have_text("untouched")


def test_htmx_request_after_the_session_ended_goes_to_the_login_page(signed_in, live_server):
    page = signed_in
    add_probe(page, '<button id="probe" hx-get="/accounts/profile/" hx-target="#probe-target">Load</button><div id="probe-target">untouched</div>')
    page.context.clear_cookies()
    page.locator("#probe").click()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    assert "/accounts/login/?next=/accounts/profile/" in page.url


def test_data_confirm_asks_before_submitting(signed_in):
    page = signed_in
    add_probe(page, '<form id="confirm-form" method="get" action="/accounts/profile/" data-confirm="Really?">'
                    '<input type="hidden" name="sent" value="1"><button id="confirm-go">Go</button></form>')
    questions = []

    def decline(dialog):
        questions.append(dialog.message)
        dialog.dismiss()

    page.once("dialog", decline)
    page.locator("#confirm-go").click()
    assert questions == ["Really?"]
    assert "sent=1" not in page.url

    add_probe(page, '<form id="confirm-form2" method="get" action="/accounts/profile/" data-confirm="Sure?">'
                    '<input type="hidden" name="sent" value="1"><button id="confirm-go2">Go</button></form>')
    page.once("dialog", lambda dialog: dialog.accept())
    with page.expect_navigation():
        page.locator("#confirm-go2").click()
    assert "sent=1" in page.url


def test_no_console_errors_on_the_frame(signed_in):
    signed_in.reload()
    signed_in.wait_for_load_state("networkidle")
    assert signed_in.console_errors == []
