"""Real-browser fixtures: the system Chromium at phone size, a live server, axe-core and screenshots.

Every test under tests/browser gets the `browser` marker (run only them with `-m browser`, or leave
them out with `-m "not browser"`). Without a Chromium they are skipped, unless DIARY_REQUIRE_BROWSER
is set (and not "0"): then they fail, so CI cannot go green without having run them.

A test module here uses pytest-playwright's `page` (an "iPhone 13" context) and these fixtures:

    from tests.browser.conftest import assert_accessible, screenshot

    def test_welcome(page, live_server):
        page.goto(live_server.url + "/")
        assert_accessible(page)                  # fails with axe-core's report on any violation
        screenshot(page, "welcome")              # tests/screenshots/welcome.png, full page

    def test_invitation(page, live_server, new_phone_context):
        clinician = live_server.users.create("clinician")
        live_server.sign_in(page, clinician)     # through the real sign-in form
        other = new_phone_context().new_page()   # a second phone, its own cookies
        ...

Fixtures:
    live_server_config   app_config with CSRF on and plain-http cookies; change before live_server
    live_server          LiveServer: .url, .app, .users (tests.conftest.Users), .password,
                         .sign_in(page, user), .query(sql, params)
    app, users           overridden to be live_server.app / live_server.users, so tests/conftest.py's
                         `patient` fixture makes "Pat Lee" on the served database (its *_client
                         fixtures post without a CSRF token, so they do not work here)
    new_phone_context    factory: new_phone_context(**overrides) -> BrowserContext, with the phone
                         preset and any overrides (**NARROW_PHONE, timezone_id=...)
    browser_problems     list of script errors, console errors, 5xx responses and failed
                         sub-resources seen in any context; the test fails at teardown if not empty
                         (a test that expects one may remove it from the list)
Helpers (plain functions): assert_accessible(page), screenshot(page, name), find_chromium().
"""

import os
import re
import shutil
import threading
from pathlib import Path

import pytest
from werkzeug.serving import WSGIRequestHandler, make_server

from diary import create_app
from tests.helpers import PASSWORD, Users, query

HERE = Path(__file__).resolve().parent
SCREENSHOTS = HERE.parent / "screenshots"

CHROME_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
PHONE = "iPhone 13"
# The narrowest phones still in use (iPhone SE 1st generation, small Androids) and 400% zoom reflow.
NARROW_VIEWPORT = {"width": 320, "height": 568}
NARROW_PHONE = {"viewport": NARROW_VIEWPORT, "screen": NARROW_VIEWPORT}
DEFAULT_TIMEOUT_MS = 10_000


# --- Finding Chromium -------------------------------------------------------------------------

def find_chromium() -> str | None:
    """The system Chromium: $DIARY_CHROMIUM if set, else /usr/bin/chromium or one on PATH."""
    override = os.environ.get("DIARY_CHROMIUM", "").strip()
    candidates = [override] if override else [
        "/usr/bin/chromium", shutil.which("chromium"), shutil.which("chromium-browser"),
    ]
    for candidate in candidates:
        if candidate and os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return candidate
    return None


def browser_required() -> bool:
    return os.environ.get("DIARY_REQUIRE_BROWSER", "").strip() not in ("", "0")


CHROMIUM = find_chromium()
NO_CHROMIUM = (
    "no Chromium found (looked for $DIARY_CHROMIUM, /usr/bin/chromium, chromium and chromium-browser "
    "on PATH); install the system one with `apt-get install chromium` (Playwright's own browser download does not work here)"
)


@pytest.hookimpl(tryfirst=True)  # before -m selection, so `-m "not browser"` sees the marker
def pytest_collection_modifyitems(config, items):
    for item in items:
        if HERE not in Path(item.path).resolve().parents:
            continue
        item.add_marker(pytest.mark.browser)
        if CHROMIUM is None and not browser_required():
            item.add_marker(pytest.mark.skip(reason=NO_CHROMIUM))


@pytest.fixture(scope="session", autouse=True)
def chromium_path():
    """Fails every browser test when a browser is required and none is found."""
    if CHROMIUM is None:
        if browser_required():
            pytest.fail(f"DIARY_REQUIRE_BROWSER is set but {NO_CHROMIUM}", pytrace=False)
        pytest.skip(NO_CHROMIUM)
    return CHROMIUM


# --- pytest-playwright overrides ------------------------------------------------------------

@pytest.fixture(scope="session")
def base_url(pytestconfig):
    """Same as pytest-playwright's fallback, which is a session fixture written as an instance
    method: pytest 9 warns about that (PytestRemovedIn10Warning) and our filterwarnings=error turns
    the warning into an error in every browser test's set-up."""
    return pytestconfig.getoption("--base-url", None) or pytestconfig.getini("base_url") or None


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args, chromium_path):
    return {**browser_type_launch_args, "executable_path": chromium_path, "args": CHROME_ARGS}


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args, playwright):
    """A phone (iPhone 13: 390 x 664, touch, 3x pixels) in the clinic's default zone and language.

    `--device` on the command line still wins, and so does @pytest.mark.browser_context_args(...).
    """
    phone = dict(playwright.devices[PHONE])
    args = {**phone, "locale": "en-US", "timezone_id": "America/New_York", **browser_context_args}
    args.pop("default_browser_type", None)
    return args


class BrowserProblems(list):
    """What a person would not see but a developer must: script errors, CSP blocks, 5xx, 404 CSS."""

    def watch(self, context):
        context.set_default_timeout(DEFAULT_TIMEOUT_MS)
        context.on("weberror", lambda error: self.append(f"uncaught script error: {error.error}"))
        context.on("console", self._console)
        context.on("response", self._response)
        return context

    def _console(self, message):
        # "Failed to load resource" repeats what _response reports, and pages like a refused
        # sign-in answer 4xx on purpose.
        if message.type == "error" and not message.text.startswith("Failed to load resource"):
            self.append(f"console error on {message.page.url if message.page else '?'}: {message.text}")

    def _response(self, response):
        if response.status >= 500:
            self.append(f"{response.status} from {response.request.method} {response.url}")
        elif response.status >= 400 and response.request.resource_type != "document":
            self.append(f"{response.status} for {response.request.resource_type} {response.url}")


@pytest.fixture
def browser_problems():
    problems = BrowserProblems()
    yield problems
    assert not problems, "the browser saw problems:\n" + "\n".join(problems)


@pytest.fixture
def context(context, browser_problems):
    return browser_problems.watch(context)


@pytest.fixture
def new_phone_context(browser, browser_context_args, browser_problems):
    """Factory for more phones (a second user, a narrow screen): new_phone_context(**overrides).

    Each has its own cookies; all are closed after the test. For a 320 px phone:
    new_phone_context(**NARROW_PHONE).
    """
    made = []

    def make(**overrides):
        context = browser.new_context(**{**browser_context_args, **overrides})
        made.append(context)
        return browser_problems.watch(context)

    yield make
    for context in made:
        context.close()


# --- The live server ------------------------------------------------------------------------

class _QuietHandler(WSGIRequestHandler):
    def log_request(self, *args, **kwargs):
        pass


class LiveServer:
    """The app on 127.0.0.1 on a free port, served from a thread of this process."""

    def __init__(self, app):
        self.app = app
        self.users = Users(app)
        self.password = PASSWORD
        self._server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=_QuietHandler)
        self.url = f"http://127.0.0.1:{self._server.server_port}"
        app.config["BASE_URL"] = self.url
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="diary-live-server", daemon=True
        )

    def start(self):
        self._thread.start()

    def stop(self):
        self._server.shutdown()
        self._thread.join(timeout=10)
        self._server.server_close()

    def query(self, sql, params=()):
        return query(self.app, sql, params)

    def sign_in(self, page, user, password=PASSWORD):
        """Sign `user` (a dict from .users.create) in through the real form; ends on their landing page."""
        from playwright.sync_api import expect

        page.goto(f"{self.url}/sign-in")
        page.get_by_label("Email").fill(user["email"])
        page.get_by_label("Password", exact=True).fill(password)
        page.get_by_role("button", name="Sign in").click()
        expect(page).not_to_have_url(re.compile(r"/sign-in"))
        return page


@pytest.fixture
def live_server_config(app_config):
    """tests/conftest.py's app_config (the same dict), with CSRF on as in production and cookies
    a plain-http browser keeps. Change it before asking for live_server."""
    app_config.update(WTF_CSRF_ENABLED=True, INSECURE_COOKIES=True)
    return app_config


@pytest.fixture
def live_server(live_server_config):
    server = LiveServer(create_app(live_server_config))
    server.start()
    yield server
    server.stop()


@pytest.fixture
def app(live_server):
    """In browser tests the app is the served one, so `users`, `patient` and `query(app, ...)`
    from tests/conftest.py all work on the database the browser sees."""
    return live_server.app


@pytest.fixture
def users(live_server):
    return live_server.users


# --- Accessibility and screenshots ----------------------------------------------------------

_axe = None


def assert_accessible(page):
    """Run axe-core (all rules, WCAG 2.x A/AA and best practices) on the page as it is now.

    Injected through the DevTools protocol, so the app's strict Content-Security-Policy stays on.
    Returns the AxeResults; fails the test with axe's report on any violation.
    """
    global _axe
    if _axe is None:
        from axe_playwright_python.sync_playwright import Axe
        _axe = Axe()
    page.wait_for_load_state("load")
    results = _axe.run(page)
    if results.violations_count:
        pytest.fail(
            f"axe-core: {results.violations_count} accessibility violation(s) on {page.url}\n"
            + results.generate_report(),
            pytrace=False,
        )
    return results


def screenshot(page, name: str) -> Path:
    """Save the whole page as tests/screenshots/<name>.png (gitignored) and return the path."""
    safe = re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip("-") or "page"
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{safe}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
