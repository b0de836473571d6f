"""A clean region breaks none of the merged knowledge tables (shipped defaults + dataset's own).

Checked in SQL (DuckDB over the written CSV files), independent of the generator's internals:
the knowledge is ``huiyan.kb.knowledge.effective`` over the dataset's ``knowledge/`` folder and
the restrictions ``huiyan.kb.restrictions`` (national points + the dataset's ``hilist``).
"""

from __future__ import annotations

import duckdb
import pyarrow as pa
import pyarrow.csv as pacsv
import pytest

from huiyan.kb import knowledge, restrictions
from huiyan.model.tables import HILIST
from huiyan.synth import generate

INFECTION = "(d.diag_code SIMILAR TO '[AB].*|J.*|L0.*|T81\\.4.*')"


@pytest.fixture(scope="module")
def con(tmp_path_factory: pytest.TempPathFactory) -> duckdb.DuckDBPyConnection:
    root = tmp_path_factory.mktemp("clean")
    report = generate(root / "data", cases=3000, seed=21, months=2, violation_rate=0.0)
    data = report.out_dir
    c = duckdb.connect()
    for name in ("setl_list", "diseinfo", "oprninfo", "medins"):
        c.execute(
            f"CREATE TABLE {name} AS SELECT * FROM read_csv('{data / name}.csv', all_varchar=true)"
        )
    c.execute(
        f"""CREATE TABLE fee AS SELECT setl_id, med_list_codg AS code, med_chrgitm_type AS chrg,
        CAST(fee_ocur_time AS TIMESTAMP) AS t, CAST(cnt AS DECIMAL(18,4)) AS cnt
        FROM read_csv('{data / "feedetail.csv"}', all_varchar=true)"""
    )
    # Net quantity per code and day: refunds cancel their originals.
    c.execute(
        "CREATE TABLE net_day AS SELECT setl_id, code, CAST(t AS DATE) AS day, SUM(cnt) AS qty "
        "FROM fee GROUP BY ALL HAVING SUM(cnt) > 0"
    )
    c.execute("CREATE TABLE net AS SELECT setl_id, code, SUM(qty) AS qty FROM net_day GROUP BY ALL")
    for name in knowledge.names():
        path = data / "knowledge" / f"{name}.csv"
        own = None
        if path.exists():
            text = {col: pa.string() for col in knowledge.TABLES[name].columns}
            opts = pacsv.ConvertOptions(column_types=text, strings_can_be_null=True)
            own = pacsv.read_csv(path, convert_options=opts)
        c.register(f"k_{name}", knowledge.effective(name, own))
    hilist = pacsv.read_csv(
        data / "hilist.csv",
        convert_options=pacsv.ConvertOptions(column_types={f.name: f.type for f in HILIST.fields}),
    )
    c.register("k_restriction", restrictions.effective_item_restrictions(hilist))
    c.register("k_dup", restrictions.load("dup_charge_pair"))
    return c


def _count(con: duckdb.DuckDBPyConnection, sql: str) -> int:
    return con.sql(f"SELECT count(*) FROM ({sql})").fetchall()[0][0]


def _covered(kind: str, code: str) -> str:
    return (
        f"(({kind} = 'item' AND n.code = {code}) OR "
        f"({kind} = 'atc' AND n.code LIKE 'X' || {code} || '%'))"
    )


CHECKS = {
    "dx_evidence": f"""
        SELECT d.setl_id, d.diag_code, k.diag_prefix, k.role FROM diseinfo d
        JOIN k_dx_evidence k ON starts_with(d.diag_code, k.diag_prefix)
        GROUP BY ALL HAVING NOT bool_or(EXISTS (SELECT 1 FROM net n WHERE n.setl_id = d.setl_id
            AND {_covered("k.evidence_type", "k.evidence_code")}))""",
    "oprn_evidence": f"""
        SELECT o.setl_id, o.oprn_oprt_code, k.oprn_prefix FROM oprninfo o
        JOIN k_oprn_evidence k ON starts_with(o.oprn_oprt_code, k.oprn_prefix)
        GROUP BY ALL HAVING NOT bool_or(EXISTS (SELECT 1 FROM net n WHERE n.setl_id = o.setl_id
            AND {_covered("k.evidence_type", "k.evidence_code")}))""",
    "diag_restriction": """
        SELECT d.* FROM diseinfo d JOIN setl_list s USING (setl_id)
        JOIN k_diag_restriction k ON starts_with(d.diag_code, k.diag_prefix)
        WHERE (k.lmt_gend IN ('1', '2') AND s.gend <> k.lmt_gend)
           OR CAST(s.age AS DOUBLE) < coalesce(CAST(k.age_min AS DOUBLE), 0)
           OR CAST(s.age AS DOUBLE) >= coalesce(CAST(k.age_max AS DOUBLE), 999)
           OR (d.diag_srt_no = '1' AND CAST(k.principal_allowed AS VARCHAR) = '0')""",
    "diag_exclusive": """
        SELECT a.setl_id FROM diseinfo a JOIN diseinfo b USING (setl_id) JOIN k_diag_exclusive k
        ON starts_with(a.diag_code, k.diag_prefix_a) AND starts_with(b.diag_code, k.diag_prefix_b)""",
    "item_exclusive": """
        SELECT n.setl_id, k.group_id, n.day FROM net_day n JOIN k_item_exclusive k ON n.code = k.hilist_code
        GROUP BY n.setl_id, k.group_id, n.day, k."window"
        HAVING count(DISTINCT n.code) > 1""",
    "item_bundle": """
        SELECT n.setl_id, k.bundle_code FROM net_day n JOIN k_item_bundle k ON n.code = k.component_code
        WHERE NOT EXISTS (SELECT 1 FROM net b WHERE b.setl_id = n.setl_id AND b.code = k.bundle_code)
        GROUP BY n.setl_id, k.bundle_code, k.min_components, CASE WHEN k."window" = 'day' THEN n.day END
        HAVING count(DISTINCT n.code) >= k.min_components""",
    "exam_indication": """
        SELECT n.setl_id, k.group_id, n.day FROM net_day n JOIN k_exam_indication k ON n.code = k.hilist_code
        WHERE NOT EXISTS (SELECT 1 FROM diseinfo d, unnest(string_split(k.qualifying_dx, '|')) AS q(p)
                          WHERE d.setl_id = n.setl_id AND starts_with(d.diag_code, q.p))
        GROUP BY n.setl_id, k.group_id, n.day, k.max_without HAVING sum(n.qty) > k.max_without""",
    "procedure_incision": f"""
        SELECT f.* FROM oprninfo o JOIN k_procedure_incision k ON starts_with(o.oprn_oprt_code, k.oprn_prefix)
        JOIN fee f ON f.setl_id = o.setl_id AND f.code LIKE 'XJ01%' AND f.cnt > 0
        WHERE k.incision_class = 'I'
          AND f.t > CAST(o.oprn_oprt_endtime AS TIMESTAMP) + to_hours(CAST(k.prophylaxis_hours AS INT))
          AND NOT EXISTS (SELECT 1 FROM diseinfo d WHERE d.setl_id = o.setl_id AND {INFECTION})""",
    "outpatient_treatable": """
        SELECT s.setl_id FROM setl_list s JOIN diseinfo d ON d.setl_id = s.setl_id AND d.diag_srt_no = '1'
        JOIN k_outpatient_treatable k ON starts_with(d.diag_code, k.diag_prefix)
        WHERE CAST(s.act_ipt_days AS INT) <= 3 AND NOT EXISTS (SELECT 1 FROM fee f
            WHERE f.setl_id = s.setl_id AND f.chrg NOT IN ('01', '02', '03', '04', '07'))""",
    "item_restriction": """
        SELECT n.setl_id, r.kind, n.code FROM net_day n JOIN setl_list s USING (setl_id)
        JOIN medins m USING (medins_code) JOIN k_restriction r ON r.hilist_code = n.code
        WHERE (r.kind = 'sex' AND s.gend <> r.lmt_gend)
           OR (r.kind = 'age' AND NOT (CAST(s.age AS DOUBLE) >= coalesce(r.age_min, 0)
                                       AND CAST(s.age AS DOUBLE) < coalesce(r.age_max, 999)))
           OR (r.kind = 'level' AND CAST(m.medins_lv AS INT) < CAST(r.lmt_medins_lv AS INT))
           OR (r.kind = 'insutype')
           OR (r.kind = 'care_setting' AND r.lmt_care_setting NOT LIKE '%住院%')
           OR (r.kind = 'frequency' AND n.qty > r.max_cnt)""",
    "item_course": """
        SELECT n.setl_id, n.code FROM net_day n JOIN k_restriction r ON r.hilist_code = n.code
        WHERE r.kind IN ('course', 'period_frequency')
        GROUP BY n.setl_id, n.code, r.kind, r.max_days, r.max_cnt
        HAVING (r.kind = 'course' AND count(DISTINCT n.day) > r.max_days)
            OR (r.kind = 'period_frequency' AND sum(n.qty) > r.max_cnt)""",
    "dup_charge_pair": """
        SELECT a.setl_id FROM net_day a JOIN k_dup k ON a.code = k.main_code
        JOIN net_day b ON b.setl_id = a.setl_id AND b.code = k.sub_code
        WHERE k."window" <> 'day' OR a.day = b.day""",
}


@pytest.mark.parametrize("table", sorted(CHECKS))
def test_clean_region_breaks_no_merged_knowledge(
    con: duckdb.DuckDBPyConnection, table: str
) -> None:
    sample = con.sql(CHECKS[table] + " LIMIT 5").fetchall()
    assert _count(con, CHECKS[table]) == 0, (table, sample)


def test_the_checks_see_the_knowledge(con: duckdb.DuckDBPyConnection) -> None:
    # The checks above are not vacuous: diagnoses and procedures with evidence rows exist.
    assert (
        _count(
            con,
            "SELECT 1 FROM diseinfo d JOIN k_dx_evidence k ON starts_with(d.diag_code, k.diag_prefix)",
        )
        > 500
    )
    assert (
        _count(
            con,
            "SELECT 1 FROM oprninfo o JOIN k_oprn_evidence k ON starts_with(o.oprn_oprt_code, k.oprn_prefix)",
        )
        > 100
    )
