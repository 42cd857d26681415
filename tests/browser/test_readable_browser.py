"""Readable at any size and in the dark (issue 13), in a real browser, on the demo clinic.

For each role, every page it can reach by following links (one page per kind of address) is
opened three times:
- on a 320 px phone: nothing wider than the screen, nothing reaching past its right edge;
- on a 390 px phone with the text at 200% (the root font size, as text zoom does): the same;
- on a 390 px phone in dark mode: axe-core finds no violation, no id is repeated, and every
  tap target is at least 44 by 44 CSS px.
The forced-dark test opens the chart in a Chromium that darkens pages itself and checks, in the
screenshot's pixels, that the chart's words still stand out from what is behind them.
Pages walked are written to tests/screenshots/reflow-pages-<role>.txt.
"""

import base64
import re
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

from diary.services import care_team as care
from diary.web import demo
from tests.browser.conftest import (CHROME_ARGS, CHROMIUM, NARROW_PHONE, SCREENSHOTS,
                                    assert_accessible, screenshot)

ACCOUNTS = {
    "anonymous": ((None, 1, ("/", "/sign-in", "/register", "/help", "/invite/not-a-real-link",
                             "/reset/not-a-real-link", "/no-such-page", "{caregiver_link}")),),
    "patient": (("sam@demo.example", 3, ("/sign-out",)), ("alex@demo.example", 1, ()),
                ("riley@demo.example", 1, ("{urgent_response}",))),
    "clinician": (("clinician@demo.example", 3, ("{caregiver_link}",)),),
    "caregiver": (("jordan@demo.example", 3, ("{caregiver_link}",)),),
}
"""Whom each role's walk signs in as, how many links deep it follows from the landing page and
from the extra pages given: Sam has an open diary (the check-in form) and an invitation out,
Alex a closed one shared with Jordan, Riley an urgent flag (and the page after her urgent
check-in, with crisis help on top). Sam's caregiver link is the
registration page for a visitor, "Join Sam Chen's care team?" for Jordan, and a refusal for the
clinician."""
NOT_PAGES = re.compile(r"\.ics$|\.svg$|\.csv$|\.json$|^/static/")

REFLOW_JS = """() => {
    const width = window.innerWidth, past = [];
    const scrolls = (el) => {  // a data table may scroll inside its own box (a WCAG exception)
        for (let up = el.parentElement; up; up = up.parentElement) {
            if (['auto', 'scroll'].includes(getComputedStyle(up).overflowX)) return true;
        }
        return false;
    };
    for (const el of document.querySelectorAll('body *')) {
        if (el.closest('.visually-hidden, .skip') || scrolls(el)) continue;
        const box = el.getBoundingClientRect();
        if (!box.width || !box.height) continue;
        if (box.right > width + 1) {
            past.push(`${el.tagName.toLowerCase()}.${el.className || ''} "${(el.textContent || '')
                .trim().slice(0, 30)}" reaches ${Math.round(box.right)} px`);
        }
    }
    return {scrollWidth: document.documentElement.scrollWidth, width, past: past.slice(0, 8)};
}"""

IDS_JS = """() => {
    const seen = {};
    for (const el of document.querySelectorAll('[id]')) seen[el.id] = (seen[el.id] || 0) + 1;
    return Object.keys(seen).filter((id) => seen[id] > 1);
}"""

TARGETS_JS = """() => {
    const small = [];
    const targets = document.querySelectorAll(
        'a[href], button, input:not([type=hidden]), select, textarea, summary');
    for (const el of targets) {
        if (el.closest('.visually-hidden') || el.classList.contains('skip')) continue;
        let box = el.getBoundingClientRect();
        if (!box.width && !box.height) continue;  // not shown (a closed disclosure)
        let {width, height} = box;
        if (el.labels && el.labels.length) {  // a radio or a checkbox is tapped on its label too
            const label = el.labels[0].getBoundingClientRect();
            width = Math.max(width, label.width);
            height = Math.max(height, label.height);
        }
        if (width < 43.5 || height < 43.5) {
            small.push(`${el.tagName.toLowerCase()} "${(el.textContent || el.name || '').trim()
                .slice(0, 30)}" ${Math.round(width)}x${Math.round(height)}`);
        }
    }
    return small;
}"""

LINKS_JS = """() => [...document.querySelectorAll('a[href]')]
    .filter((a) => !a.hasAttribute('download'))
    .map((a) => a.getAttribute('href'))"""


def kind_of(path: str) -> str:
    """One page per kind of address: /patients/3/infusions/7 and /patients/4/infusions/9 alike."""
    return re.sub(r"\d+", "{n}", path)


def walk(page, base: str, starts: list[str], depth: int, seen_kinds: set) -> list[str]:
    """Follow same-site links breadth first from `starts`, `depth` links deep; a page is kept
    under the address it ends on (after any redirect)."""
    found, frontier = [], [base + path for path in starts]
    for _ in range(depth + 1):
        following = []
        for url in frontier:
            if NOT_PAGES.search(urlsplit(url).path) or kind_of(urlsplit(url).path) in seen_kinds:
                continue
            response = page.goto(url)
            if response is None or "text/html" not in response.headers.get("content-type", ""):
                continue
            path, query = urlsplit(page.url).path, urlsplit(page.url).query
            seen_kinds.add(kind_of(urlsplit(url).path))
            if kind_of(path) in seen_kinds - {kind_of(urlsplit(url).path)}:
                continue  # a redirect to a page already walked
            seen_kinds.add(kind_of(path))
            found.append(path + (f"?{query}" if query else ""))
            for href in page.evaluate(LINKS_JS):
                target = urlsplit(href)
                if href.startswith("#") or target.scheme not in ("", "http"):
                    continue
                if target.netloc in ("", urlsplit(base).netloc):
                    following.append(base + target.path)
        frontier = following
    return found


def seed_clinic(live_server) -> dict:
    """The demo clinic, with a caregiver invitation Sam has not sent yet and an enrolment link
    the clinician made: their pages are walked too. Returns the paths to fill in."""
    with live_server.app.app_context():
        made = demo.seed()
        sam = made["patients"][1]
        _, token = care.create_invitation(sam, "caregiver")
        care.create_invitation(made["clinician"], "enrolment")
    [urgent] = live_server.query("SELECT id, infusion_id FROM checkins WHERE mood <= 1")
    return {"caregiver_link": f"/invite/{token}",
            "urgent_response": f"/infusions/{urgent['infusion_id']}?saved={urgent['id']}"}


def check_reflow(page, path, how, problems):
    found = page.evaluate(REFLOW_JS)
    if found["scrollWidth"] > found["width"] or found["past"]:
        problems.append(f"{how} {path}: document {found['scrollWidth']} px wide on a "
                        f"{found['width']} px screen; {found['past']}")


@pytest.mark.parametrize("role", list(ACCOUNTS))
def test_every_page_reflows_at_320px_and_at_200_percent_text_and_passes_axe_in_dark_mode(
        role, live_server, new_phone_context):
    paths = seed_clinic(live_server)
    base = live_server.url
    problems, pages = [], []
    for email, depth, extra in ACCOUNTS[role]:
        narrow = new_phone_context(**NARROW_PHONE)
        first = narrow.new_page()
        starts = [path.format(**paths) for path in extra]
        if email:
            live_server.sign_in(first, {"email": email}, password=demo.PASSWORD)
            starts.insert(0, urlsplit(first.url).path)
        walked = walk(first, base, starts, depth, set())
        state = narrow.storage_state()
        large = new_phone_context(storage_state=state).new_page()
        dark = new_phone_context(storage_state=state, color_scheme="dark").new_page()
        for path in walked:
            first.goto(base + path)
            check_reflow(first, path, "320 px:", problems)
            large.goto(base + path)
            large.evaluate("document.documentElement.style.fontSize = '200%'")
            check_reflow(large, path, "200% text:", problems)
            dark.goto(base + path)
            assert dark.evaluate("matchMedia('(prefers-color-scheme: dark)').matches")
            assert_accessible(dark)
            repeated = dark.evaluate(IDS_JS)
            if repeated:
                problems.append(f"repeated ids on {path}: {repeated}")
            small = dark.evaluate(TARGETS_JS)
            if small:
                problems.append(f"tap targets under 44x44 on {path}: {small}")
        pages += [f"{email or 'anonymous'} {path}" for path in walked]
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    (SCREENSHOTS / f"reflow-pages-{role}.txt").write_text("\n".join(pages) + "\n")
    print(f"\n{role}: {len(pages)} pages walked at 320 px, 200% text and in dark mode")
    assert len(pages) >= {"anonymous": 5, "patient": 12, "clinician": 6, "caregiver": 4}[role], pages
    assert not problems, "\n".join(problems)


# --- Looking at it: the key pages at each size and theme ---------------------------------------

KEY_PAGES = {
    "patient-home": ("sam@demo.example", lambda page: None),
    "checkin": ("sam@demo.example",
                lambda page: page.get_by_role("link", name="Check in now").first.click()),
    "chart": ("clinician@demo.example",
              lambda page: page.get_by_role("link", name="Sam Chen").first.click()),
    "flags": ("clinician@demo.example",
              lambda page: page.get_by_role("link", name=re.compile(r"^Flags")).click()),
    "caregiver-home": ("jordan@demo.example", lambda page: None),
}


def open_key_page(live_server, page, name):
    email, go = KEY_PAGES[name]
    live_server.sign_in(page, {"email": email}, password=demo.PASSWORD)
    go(page)
    page.wait_for_load_state("load")


@pytest.mark.parametrize("name", list(KEY_PAGES))
def test_key_pages_at_320px_200_percent_and_dark(name, live_server, new_phone_context):
    with live_server.app.app_context():
        demo.seed()
    for how, overrides in (("320", NARROW_PHONE), ("200pct", {}), ("dark", {"color_scheme": "dark"})):
        page = new_phone_context(**overrides).new_page()
        open_key_page(live_server, page, name)
        if how == "200pct":
            page.evaluate("document.documentElement.style.fontSize = '200%'")
        page.screenshot(path=str(SCREENSHOTS / f"{name}-{how}-first-screen.png"))
        screenshot(page, f"{name}-{how}")
        assert page.evaluate("document.documentElement.scrollWidth <= innerWidth")


def test_the_patient_home_has_check_in_now_and_record_an_infusion_on_the_first_screen(
        live_server, new_phone_context):
    with live_server.app.app_context():
        demo.seed()
    for overrides in ({}, NARROW_PHONE):
        page = new_phone_context(**overrides).new_page()
        live_server.sign_in(page, {"email": "sam@demo.example"}, password=demo.PASSWORD)
        height = page.viewport_size["height"]
        for name in ("Check in now", "Record an infusion"):
            box = page.get_by_role("link", name=name, exact=True).bounding_box()
            assert box["y"] + box["height"] <= height, (name, box, overrides)
        alex = new_phone_context(**overrides).new_page()
        live_server.sign_in(alex, {"email": "alex@demo.example"}, password=demo.PASSWORD)
        box = alex.get_by_role("link", name="Record an infusion", exact=True).bounding_box()
        assert box["y"] + box["height"] <= height
        expect(alex.get_by_role("link", name="Check in now")).to_have_count(0)  # 24 h are over


def test_the_five_severity_choices_wrap_onto_lines_of_whole_buttons(live_server,
                                                                     new_phone_context):
    with live_server.app.app_context():
        demo.seed()
    for overrides, zoom in (({}, "100%"), (NARROW_PHONE, "100%"), ({}, "200%")):
        page = new_phone_context(**overrides).new_page()
        open_key_page(live_server, page, "checkin")
        page.evaluate(f"document.documentElement.style.fontSize = '{zoom}'")
        boxes = page.evaluate("""() => [...document.querySelectorAll('.severity')][0]
            .querySelectorAll('.choice span').length && [...[...document
            .querySelectorAll('.severity')][0].querySelectorAll('.choice span')].map((s) => {
                const b = s.getBoundingClientRect();
                return {left: b.left, right: b.right, top: b.top, text: s.scrollWidth,
                        inner: s.clientWidth};
            })""")
        assert len(boxes) == 5
        for box in boxes:
            assert box["left"] >= 0 and box["right"] <= page.viewport_size["width"], (zoom, box)
            assert box["text"] <= box["inner"] + 1, (zoom, box)  # no word sticks out of its button
        rows = sorted({round(box["top"]) for box in boxes})
        if overrides == {} and zoom == "100%":
            assert len(rows) == 1  # one line on an iPhone 13
        else:
            assert len(rows) >= 2, (overrides, zoom)


# --- Forced dark ------------------------------------------------------------------------------

FORCED_DARK_ARGS = [*CHROME_ARGS, "--force-dark-mode", "--enable-features=WebContentsForceDark"]

PIXELS_JS = """async ([png, boxes, scale]) => {
    const image = new Image();
    image.src = 'data:image/png;base64,' + png;
    await image.decode();
    const canvas = document.createElement('canvas');
    canvas.width = image.width; canvas.height = image.height;
    const context = canvas.getContext('2d');
    context.drawImage(image, 0, 0);
    const light = (r, g, b) => {
        const c = [r, g, b].map((v) => { v /= 255; return v <= 0.04045 ? v / 12.92
                                                          : ((v + 0.055) / 1.055) ** 2.4; });
        return 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2];
    };
    return boxes.map((box) => {
        const data = context.getImageData(Math.floor(box.x * scale), Math.floor(box.y * scale),
            Math.max(1, Math.ceil(box.width * scale)), Math.max(1, Math.ceil(box.height * scale))).data;
        const values = [];
        for (let i = 0; i < data.length; i += 4) values.push(light(data[i], data[i + 1], data[i + 2]));
        values.sort((a, b) => a - b);
        const low = values[Math.floor(values.length * 0.05)];
        const high = values[Math.floor(values.length * 0.95)];
        return {text: box.text, contrast: (high + 0.05) / (low + 0.05)};
    });
}"""


@pytest.mark.parametrize("preference", ["light", "dark"])
def test_the_chart_stays_legible_in_forced_dark(preference, live_server, playwright,
                                                browser_context_args):
    """Chromium's auto dark mode (Android's forced dark): with the phone in dark mode the page's
    own dark theme shows; with it in light mode Chromium darkens the page itself. Either way the
    symptom names, the hours and the "Flagged after" words keep their contrast, measured in the
    screenshot's pixels behind each word."""
    seed_clinic(live_server)
    browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FORCED_DARK_ARGS)
    try:
        context = browser.new_context(**{**browser_context_args, "color_scheme": preference})
        page = context.new_page()
        open_key_page(live_server, page, "chart")
        svg = page.locator("figure.chart svg").first
        svg.scroll_into_view_if_needed()
        name = "chart-forced-dark" + ("" if preference == "dark" else "-light-phone")
        screenshot(page, name)
        page.screenshot(path=str(SCREENSHOTS / f"{name}-first-screen.png"))
        png = svg.screenshot(path=str(SCREENSHOTS / f"{name}-svg.png"))
        boxes = svg.evaluate("""(svg) => {
            const origin = svg.getBoundingClientRect();
            return [...svg.querySelectorAll('text')]
                .filter((t) => /[A-Za-z0-9]/.test(t.textContent))
                .map((t) => { const b = t.getBoundingClientRect();
                    return {text: t.textContent, x: b.x - origin.x, y: b.y - origin.y,
                            width: b.width, height: b.height}; });
        }""")
        words = [box["text"] for box in boxes]
        assert "Hard to think clearly or find words" in words and "Flagged after 4 h" in words
        assert "4h" in words
        scale = page.evaluate("devicePixelRatio")
        results = context.new_page().evaluate(
            PIXELS_JS, [base64.b64encode(png).decode(), boxes, scale])
        faint = [result for result in results if result["contrast"] < 3]
        assert not faint, faint
    finally:
        browser.close()
