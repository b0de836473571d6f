"""The whole review loop in a real browser (Playwright driving Debian's /usr/bin/chromium).

An auditor confirms a finding and notifies the hospital; the hospital user sees only its own
institution and appeals with an attachment; two experts disagree in the cross review; a second
auditor makes the final decision; the deduction appears on the settlement page. Screenshots of
every page go to ``$HUIYAN_SCREENSHOTS`` (default ``test-artifacts/screenshots``).
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--lang=zh-CN",  # the browser's own controls (file picker) in Chinese too
]
PASSWORD = "correct-horse-9"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def site(web_region: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    """The service app (dashboard included) on a local port, with one user per role."""
    import duckdb
    import uvicorn

    from huiyan.review.users import add_user
    from huiyan.service.app import create_app
    from huiyan.service.settings import Settings

    root = tmp_path_factory.mktemp("site")
    con = duckdb.connect(str(web_region), read_only=True)
    # The hospital with the most findings still to review (可疑: not auto-confirmed).
    hosp, other = [
        r[0]
        for r in con.sql(
            "select medins_code from finding group by 1 "
            "order by count(*) filter (where sev_deg = '2') desc, medins_code limit 2"
        ).fetchall()
    ]
    names = dict(con.sql("select medins_code, medins_name from medins").fetchall())
    experts_from = [
        r[0]
        for r in con.sql(
            "select medins_code from medins where medins_code <> ? order by 1 limit 2",
            params=[hosp],
        ).fetchall()
    ]
    con.close()
    settings = Settings(
        state=str(root / "state.sqlite"),
        db=web_region,
        snapshot_dir=root / "snapshots",
        snapshot_poll_seconds=0,
        attachment_dir=root / "attachments",
    )
    app = create_app(settings)
    with app.state.write_session() as s:
        add_user(s, username="shen", password=PASSWORD, role="auditor", display_name="沈审核")
        add_user(s, username="li", password=PASSWORD, role="auditor", display_name="李复审")
        add_user(s, username="hosp", password=PASSWORD, role="hospital", medins_code=hosp)
        for i, code in enumerate(experts_from, start=1):
            add_user(s, username=f"expert{i}", password=PASSWORD, role="expert", medins_code=code)
        s.commit()
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline, "server did not start"
        time.sleep(0.05)
    yield {
        "base": f"http://127.0.0.1:{port}",
        "hosp": hosp,
        "other": other,
        "names": names,
        "root": root,
    }
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} not found: apt-get install chromium fonts-noto-cjk")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


SHOTS = Path(os.environ.get("HUIYAN_SCREENSHOTS", "test-artifacts/screenshots"))


class Person:
    """One browser session of one user, with screenshots named in walk order."""

    count = 0

    def __init__(self, browser, base: str) -> None:  # noqa: ANN001
        self.ctx = browser.new_context(viewport={"width": 1366, "height": 768}, locale="zh-CN")
        self.page = self.ctx.new_page()
        self.base = base
        self.errors: list[str] = []
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))

    def go(self, path: str) -> None:
        self.page.goto(self.base + path)
        self.settle()

    def settle(self) -> None:
        self.page.wait_for_load_state("networkidle")
        if self.page.locator(".chart").count():
            self.page.wait_for_selector("body[data-charts-ready='1']", timeout=10_000)

    def shot(self, name: str) -> None:
        Person.count += 1
        SHOTS.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(SHOTS / f"{Person.count:02d}-{name}.png"), full_page=True)

    def login(self, username: str) -> None:
        self.go("/")
        assert "/login" in self.page.url
        self.page.fill("input[name=username]", username)
        self.page.fill("input[name=password]", PASSWORD)
        self.page.click("button[type=submit]")
        self.settle()
        assert "/login" not in self.page.url, self.page.content()[:500]

    def close(self) -> None:
        assert not self.errors, self.errors
        self.ctx.close()


def test_review_loop_in_the_browser(site: dict, browser) -> None:  # noqa: ANN001
    base, hosp, other, names = site["base"], site["hosp"], site["other"], site["names"]

    # ---- the auditor looks around, then confirms the largest pending finding of the hospital
    a = Person(browser, base)
    a.go("/")
    a.shot("login")
    a.login("shen")
    assert a.page.locator("h1").first.inner_text() == "统筹区总览"
    assert a.page.locator(".chart canvas").count() >= 4  # ECharts drew the charts
    a.shot("overview")
    for path, name in [
        ("/institutions", "institutions"),
        (f"/institutions/{hosp}", "institution"),
        ("/groups", "groups"),
        ("/findings", "findings"),
        ("/rules", "rules"),
        ("/warnings", "warnings"),
    ]:
        a.go(path)
        assert a.page.locator("main h1").count() == 1
        a.shot(name)
    # Drill-down: the class table links to the findings of that class.
    a.go("/findings")
    a.page.select_option("select[name=vola_bhvr_type]", index=1)
    a.page.wait_for_url("**vola_bhvr_type=**")
    a.settle()
    a.go(f"/reviews?state=pending&medins_code={hosp}")
    a.shot("review-queue")
    a.page.locator("#t-reviews tbody tr td a").first.click()
    a.settle()
    item_url = a.page.url
    item_path = item_url.removeprefix(base)
    amount = a.page.locator("dl.facts dd b").first.inner_text()
    a.shot("review-item")
    a.page.select_option("select[name=outcome]", "confirmed")
    a.page.select_option("select[name=reason]", "R01")
    a.page.fill("textarea[name=note]", "费用明细与医嘱核对, 证据充分")
    a.page.click("text=保存初审结论")
    a.settle()
    assert "初审结论已保存" in a.page.inner_text(".flash")
    a.page.click("text=通知医院")
    a.settle()
    assert "已通知医院" in a.page.inner_text(".flash")
    a.close()

    # ---- the hospital sees only its own institution, and appeals with an attachment
    h = Person(browser, base)
    h.login("hosp")
    assert names[hosp] in h.page.inner_text("main")
    assert names[other] not in h.page.content()
    h.shot("hospital-home")
    h.go("/reviews")
    inst = h.page.locator("#t-reviews tbody tr td:nth-child(6)").all_inner_texts()
    assert inst and set(inst) == {names[hosp]}
    h.go("/findings")
    assert names[other] not in h.page.content()
    h.go(f"/institutions/{other}")
    assert "未找到或无权查看" in h.page.content()
    h.go(item_path)
    h.page.fill("textarea[name=text]", "该患者病情需要, 医嘱与护理记录齐全, 详见附件。")
    h.page.set_input_files(
        "input[name=file]",
        {"name": "护理记录.pdf", "mimeType": "application/pdf", "buffer": b"%PDF-1.4\n%%EOF\n"},
    )
    h.page.click("text=提交申诉")
    h.settle()
    assert "申诉已提交" in h.page.inner_text(".flash")
    assert "护理记录.pdf" in h.page.inner_text("main")
    h.shot("hospital-appeal")
    h.close()

    # ---- cross review by two experts from other institutions, who disagree
    a = Person(browser, base)
    a.login("shen")
    a.go(item_path)
    a.page.fill("input[name=experts]", "2")
    a.page.click("text=发起专家交叉互评")
    a.settle()
    assert "交叉互评" in a.page.inner_text(".flash")
    a.close()
    for who, outcome in (("expert1", "confirmed"), ("expert2", "dismissed")):
        e = Person(browser, base)
        e.login(who)
        e.go("/reviews")
        assert e.page.locator("#t-reviews tbody tr").count() == 1
        e.go(item_path)
        e.page.select_option("select[name=outcome]", outcome)
        e.page.click("text=提交互评意见")
        e.settle()
        assert "互评意见已提交" in e.page.inner_text(".flash")
        if who == "expert1":
            e.shot("cross-review")
        e.close()

    # ---- no majority: a second auditor makes the final decision
    b = Person(browser, base)
    b.login("li")
    b.go(item_path)
    assert "复审" in b.page.inner_text("h1")
    b.page.select_option("select[name=outcome]", "confirmed")
    b.page.select_option("select[name=reason]", "R01")
    b.page.click("text=保存终审结论")
    b.settle()
    assert "终审结论已保存" in b.page.inner_text(".flash")
    b.shot("final-decision")

    # ---- the deduction is on the settlement page
    b.go("/settlement")
    decided = b.page.locator("#t-decided tbody tr", has_text=names[hosp])
    assert decided.count() == 1
    assert amount in decided.inner_text()
    b.shot("settlement")
    b.close()
