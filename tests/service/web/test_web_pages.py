"""Every dashboard page renders from a pipeline-built store, in Chinese, within the viewer's scope."""

from __future__ import annotations

import io
import re

import openpyxl
import pytest

PAGES = ["/", "/institutions", "/groups", "/findings", "/rules", "/settlement", "/warnings"]


@pytest.mark.parametrize("path", PAGES)
def test_auditor_pages_render_with_charts_and_downloads(make_client, path: str) -> None:
    r = make_client().get(path)
    assert r.status_code == 200, r.text[:500]
    assert r.headers["content-type"].startswith("text/html")
    assert "慧眼" in r.text
    assert "暂无数据" not in r.text.split("</header>")[0]
    # Only vendored scripts: no page loads anything from another host.
    assert not re.search(r"""(src|href)=["']https?://""", r.text)
    assert "下载 Excel" in r.text


def test_overview_shows_the_region_totals(make_client, region_facts) -> None:
    text = make_client().get("/").text
    assert f"{region_facts['cases']:,}" in text
    assert f"{region_facts['findings']:,}" in text
    for name in region_facts["names"].values():
        assert name in text  # the CMI chart names every institution


def test_findings_filter_and_xlsx_download(make_client, region_facts) -> None:
    client = make_client()
    code, n = max(region_facts["by_medins"].items(), key=lambda kv: kv[1])
    r = client.get("/findings", params={"medins_code": code})
    assert f"共 <b>{n:,}</b> 条疑点" in r.text
    part = client.get("/findings", params={"medins_code": code}, headers={"HX-Request": "true"})
    assert "<html" not in part.text and f"共 <b>{n:,}</b> 条疑点" in part.text
    x = client.get("/findings", params={"medins_code": code, "xlsx": "findings"})
    assert x.status_code == 200
    ws = openpyxl.load_workbook(io.BytesIO(x.content)).active
    rows = list(ws.iter_rows(values_only=True))
    assert rows[0][0] == "违规标识"
    assert sorted(r[0] for r in rows[1:]) == region_facts["jr_by_medins"][code]


def test_finding_page_highlights_its_evidence_lines(make_client, region_facts, web_region) -> None:
    import duckdb

    con = duckdb.connect(str(web_region), read_only=True)
    jr, detail = con.sql(
        "select jr_id, detail from finding where rule_id like 'DUPCHG%' or rule_id like 'OVERQTY%' "
        "order by jr_id limit 1"
    ).fetchall()[0]
    front = {
        r[0]
        for r in con.sql(
            "select m.code from medrcd m join setl_list l using (medcasno) "
            "join finding f using (setl_id) where f.jr_id = ?",
            params=[jr],
        ).fetchall()
    }
    con.close()
    text = make_client().get(f"/findings/{jr}").text
    assert "政策依据" in text
    assert front and all(code in text for code in front)  # the front page's codes
    hits = re.findall(
        r'<tr class="hit">\s*<td class="text">[^<]*</td>\s*<td class="code">([^<]+)</td>', text
    )
    assert hits and set(hits) <= set(detail.split("|"))
    x = make_client().get(f"/findings/{jr}", params={"xlsx": "evidence"})
    rows = list(openpyxl.load_workbook(io.BytesIO(x.content)).active.iter_rows(values_only=True))
    assert rows[0][1] == "流水号"
    assert {r[1] for r in rows[1:]} == set(detail.split("|"))


def test_hospital_user_sees_only_its_own_institution(make_client, region_facts) -> None:
    mine, other = sorted(region_facts["jr_by_medins"])[:2]
    client = make_client("hospital", mine)
    text = client.get("/findings").text
    assert f"共 <b>{len(region_facts['jr_by_medins'][mine]):,}</b> 条疑点" in text
    assert all(jr not in text for jr in region_facts["jr_by_medins"][other][:50])
    # Another hospital's finding, institution and download are not reachable, even by URL.
    assert client.get(f"/findings/{region_facts['jr_by_medins'][other][0]}").status_code == 404
    assert client.get(f"/institutions/{other}").status_code == 404
    assert client.get("/findings", params={"medins_code": other}).text.count("<tr>") - 1 == len(
        region_facts["jr_by_medins"][mine][:50]
    )
    x = client.get("/findings", params={"xlsx": "findings"})
    ws = openpyxl.load_workbook(io.BytesIO(x.content)).active
    assert (
        sorted(r[0] for r in list(ws.iter_rows(values_only=True))[1:])
        == region_facts["jr_by_medins"][mine]
    )
    home = client.get("/").text
    assert region_facts["names"][mine] in home
    assert region_facts["names"][other] not in home
    settle = client.get("/settlement").text
    assert region_facts["names"][other] not in settle


def test_not_signed_in_is_refused(web_region) -> None:
    from fastapi import FastAPI
    from fastapi.testclient import TestClient

    from huiyan.service.web import router

    app = FastAPI()
    app.include_router(router)
    app.state.store_path = web_region
    with TestClient(app) as client:
        assert client.get("/").status_code == 401
        # A browser is sent to the login page, keeping where it wanted to go.
        r = client.get(
            "/findings?sev_deg=1", headers={"accept": "text/html"}, follow_redirects=False
        )
        assert r.status_code == 303
        assert r.headers["location"] == "/login?next=/findings%3Fsev_deg%3D1"


def test_static_files_are_served_and_confined(make_client) -> None:
    client = make_client()
    js = client.get("/static/vendor/echarts.min.js")
    assert js.status_code == 200 and len(js.content) > 100_000
    assert client.get("/static/vendor/htmx.min.js").status_code == 200
    assert client.get("/static/../reader.py").status_code == 404


def test_settlement_notice_is_printable_and_scoped(make_client, web_region, region_facts) -> None:
    import duckdb

    con = duckdb.connect(str(web_region), read_only=True)
    rows = dict(
        con.sql(
            "select medins_code, paid from settlement where period = '2025-12' and kind = 'monthly'"
        ).fetchall()
    )
    con.close()
    code, other = sorted(rows)[:2]
    params = {"period": "2025-12", "kind": "monthly", "medins_code": code}
    text = make_client().get("/settlement/notice", params=params).text
    assert "结算通知单" in text and region_facts["names"][code] in text
    assert f"{float(rows[code]):,.2f}" in text
    # A hospital asking for another's notice gets its own.
    own = make_client("hospital", other).get("/settlement/notice", params=params).text
    assert region_facts["names"][other] in own and region_facts["names"][code] not in own


def test_experts_do_not_browse_the_region(make_client) -> None:
    client = make_client("expert")
    for path in ("/", "/findings", "/institutions", "/settlement"):
        r = client.get(path, follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"] == "/reviews", path


def test_personal_numbers_in_finding_texts_are_masked_unless_permitted(
    web_region, tmp_path
) -> None:
    import shutil

    import duckdb
    from fastapi import FastAPI
    from fastapi.testclient import TestClient

    from huiyan.service.web import Viewer, router

    db = tmp_path / "masked.duckdb"
    shutil.copy(web_region, db)
    con = duckdb.connect(str(db))
    jr, code = con.sql("select jr_id, medins_code from finding order by jr_id limit 1").fetchall()[
        0
    ]
    con.execute(
        "update finding set vola_cont = vola_cont || ' 联系电话13812345678' where jr_id = ?", [jr]
    )
    con.close()

    def page(viewer: Viewer, path: str) -> str:
        app = FastAPI()
        app.include_router(router)
        app.state.store_path = db
        app.state.web_viewer = lambda request: viewer
        with TestClient(app) as client:
            return client.get(path).text

    for path in (f"/findings/{jr}", f"/findings?medins_code={code}"):
        entitled = page(Viewer("a", "auditor", personal=True), path)
        assert "13812345678" in entitled
        for viewer in (Viewer("b", "auditor"), Viewer("h", "hospital", code)):
            text = page(viewer, path)
            assert "13812345678" not in text and "138****5678" in text, (viewer.role, path)


def test_every_table_of_every_page_downloads(make_client, region_facts) -> None:
    client = make_client()
    code = max(region_facts["by_medins"].items(), key=lambda kv: kv[1])[0]
    jr = region_facts["jr_by_medins"][code][0]
    for path in [*PAGES, f"/institutions/{code}", f"/findings/{jr}"]:
        html = client.get(path).text
        links = re.findall(r'<a class="dl" href="([^"]+)"', html)
        assert links, path
        for href in links:
            r = client.get(href.replace("&amp;", "&"))
            assert r.status_code == 200, (path, href, r.text[:200])
            book = openpyxl.load_workbook(io.BytesIO(r.content))
            assert book.active.max_column >= 2, href
