"""Planted drifts for monitoring (``huiyan synth --drift``): behaviour that changes in the second
half-year at chosen institutions, a department and a doctor, plus a clean decoy, with labels.

Applied to a written dataset (any format ``generate`` writes), so the drifts change the data the
way a hospital's behaviour would and the monitor sees nothing else. Kinds:

- ``upcoding`` 高套: an MCC/CC secondary diagnosis added to a share of the cases without one;
- ``split_admission`` 分解住院: long stays cut in two with a next-day readmission;
- ``los_inflation`` 延长住院 (a department): stays lengthened, bed and nursing days billed;
- ``low_standard`` 低标入院 (a doctor): a share of the stays cut to the admission day;
- ``low_risk_death`` 低风险死亡: deaths among diagnoses that otherwise never die in the region;
- ``selfpay_shift`` 自费转移: part of the cost moved from the fund to the patient's own payment;
- ``outlier_inflation`` 高倍率: a share of the stays billed at several times their cost;
- ``decoy`` (not a drift): an institution whose volume grows by clean copies of its own cases.

Labels go to ``drift.csv`` beside ``labels.csv``: kind, level, subject, medins_code, start
(first drifting month) and the indicators expected to move.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from huiyan.engine import local
from huiyan.errors import InputError
from huiyan.model.tables import table

DRIFT_COLUMNS = ("kind", "level", "subject", "medins_code", "start", "indicators")
TABLES = ("setl_list", "diseinfo", "oprninfo", "feedetail", "medrcd")
UPCODE_DX = ("J96.000", "A41.900", "I50.900", "E87.100", "J18.900")  # synth MCC/CC comorbidities
INSTITUTION_KINDS = (
    "upcoding",
    "split_admission",
    "low_risk_death",
    "selfpay_shift",
    "outlier_inflation",
)
EXPECTED = {
    "upcoding": "mcc_cc_share|cmi",
    "split_admission": "readmit_15_rate|readmit_31_rate",
    "los_inflation": "avg_los|time_index",
    "low_standard": "low_standard_share|low_outlier_share",
    "low_risk_death": "low_risk_mortality",
    "selfpay_shift": "ownpay_share|personal_burden",
    "outlier_inflation": "high_outlier_share|cost_index",
    "decoy": "",
}


@dataclass(frozen=True)
class Drift:
    kind: str
    level: str
    subject: str
    medins_code: str
    start: str


def _path(folder: Path, name: str) -> Path | None:
    for ext in ("csv", "parquet"):
        p = folder / f"{name}.{ext}"
        if p.is_file():
            return p
    return None


def _read(path: Path, name: str) -> pa.Table:
    schema = table(name).arrow_schema()
    if path.suffix == ".parquet":
        return pq.read_table(path).cast(schema)
    opts = pacsv.ConvertOptions(column_types=schema, strings_can_be_null=True)
    return pacsv.read_csv(path, convert_options=opts).select(schema.names).cast(schema)


def _write(path: Path, name: str, data: pa.Table) -> None:
    data = data.select(table(name).arrow_schema().names).cast(table(name).arrow_schema())
    if path.suffix == ".parquet":
        pq.write_table(data, path, compression="zstd")
    else:
        pacsv.write_csv(data, path)


def plant_drifts(
    data_dir: str | Path, labels_dir: str | Path, *, seed: int, min_cases: int = 600
) -> list[Drift]:
    """Apply the drifts to the dataset in ``data_dir``; write ``drift.csv`` to ``labels_dir``.

    Drifting institutions are drawn from those with at least ``min_cases`` settlements.
    """
    folder = Path(data_dir)
    paths = {n: _path(folder, n) for n in TABLES}
    if paths["setl_list"] is None or paths["feedetail"] is None:
        raise InputError(f"{folder}: 没有 setl_list / feedetail, 无法植入监测漂移")
    con = local.connect()
    for name, p in paths.items():
        if p is not None:
            con.register(f"_{name}", _read(p, name))
            con.execute(f"create table {name} as select * from _{name}")
            con.unregister(f"_{name}")
    rng = np.random.default_rng(seed + 7919)
    drifts = _choose(con, rng, min_cases)
    for d in drifts:
        globals()[f"_{d.kind}"](con, d, rng)
    for name, p in paths.items():
        if p is not None:
            _write(p, name, con.sql(f"select * from {name}").to_arrow_table())
    labels = Path(labels_dir)
    labels.mkdir(parents=True, exist_ok=True)
    with (labels / "drift.csv").open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(DRIFT_COLUMNS)
        for d in drifts:
            w.writerow([d.kind, d.level, d.subject, d.medins_code, d.start, EXPECTED[d.kind]])
    return drifts


def _choose(con: local.Connection, rng: np.random.Generator, min_cases: int) -> list[Drift]:
    """Institutions large enough to be judged (by case count, one kind each), a department
    and a doctor elsewhere, and the decoy."""
    year, last = con.sql(
        "select min(year(dscg_time)), max(month(dscg_time)) from setl_list "
        "where year(dscg_time) = (select min(year(dscg_time)) from setl_list)"
    ).fetchall()[0]
    start = f"{year}-{max(2, (last + 1) // 2 + 1):02d}"
    sizes = con.sql(
        "select medins_code, count(*) n from setl_list group by 1 order by n desc, 1"
    ).fetchall()
    big = [code for code, n in sizes if n >= min_cases]
    needed = len(INSTITUTION_KINDS) + 3
    if len(big) < needed:
        raise InputError(
            f"监测漂移需要至少 {needed} 家病例数≥{min_cases}的医院 (现有 {len(big)} 家): "
            "请增加 --cases 或 --hospitals"
        )
    # The two largest host the department and the doctor (enough cases per quarter to judge);
    # the rest are drawn at random.
    host_dept, host_doc = big[0], big[1]
    order = list(rng.permutation(big[2:needed]))
    drifts = [
        Drift(k, "institution", h, h, start) for k, h in zip(INSTITUTION_KINDS, order, strict=False)
    ]
    decoy = order[len(INSTITUTION_KINDS)]
    dept = con.sql(
        "select dscg_caty, count(*) n from setl_list where medins_code = ? "
        "group by 1 order by n desc, 1 limit 1",
        params=[host_dept],
    ).fetchall()[0][0]
    doc = con.sql(
        "select chfpdr_code, count(*) n from setl_list where medins_code = ? "
        "group by 1 order by n desc, 1 limit 1",
        params=[host_doc],
    ).fetchall()[0][0]
    drifts.append(Drift("los_inflation", "department", f"{host_dept}/{dept}", host_dept, start))
    drifts.append(Drift("low_standard", "doctor", f"{host_doc}/{doc}", host_doc, start))
    drifts.append(Drift("decoy", "institution", decoy, decoy, start))
    return drifts


def _pick(con: local.Connection, d: Drift, share: float, rng, where: str = "true"):
    """A ``share`` of the drifting subject's cases discharged from ``d.start`` on."""
    subject_sql = {
        "institution": "medins_code = ?",
        "department": "medins_code || '/' || dscg_caty = ?",
        "doctor": "medins_code || '/' || chfpdr_code = ?",
    }[d.level]
    ids = [
        r[0]
        for r in con.sql(
            f"select setl_id from setl_list where {subject_sql} "
            f"and strftime(dscg_time, '%Y-%m') >= ? and {where} order by setl_id",
            params=[d.subject, d.start],
        ).fetchall()
    ]
    k = max(1, int(round(len(ids) * share))) if ids else 0
    chosen = sorted(rng.choice(ids, k, replace=False).tolist()) if k else []
    con.execute(
        "create or replace temp table pick as select unnest(?::varchar[]) setl_id", [chosen]
    )
    return chosen


def _rescale_amounts(con: local.Connection) -> None:
    """Settlement amounts of the picked cases follow their (changed) fee lines."""
    con.execute(
        """
        create or replace temp table newcost as
        select s.setl_id, sum(f.det_item_fee_sumamt) total, any_value(s.medfee_sumamt) old
        from setl_list s join feedetail f on f.mdtrt_id = s.mdtrt_id
        where s.setl_id in (select setl_id from pick) group by 1
        """
    )
    con.execute(
        """
        update setl_list s set
          medfee_sumamt = n.total,
          fund_pay_sumamt = round(s.fund_pay_sumamt * n.total / nullif(n.old, 0), 2),
          hifp_pay = round(s.hifp_pay * n.total / nullif(n.old, 0), 2),
          psn_cashpay = n.total - round(s.fund_pay_sumamt * n.total / nullif(n.old, 0), 2)
                        - coalesce(s.acct_pay, 0),
          selfpay_amt = round(s.selfpay_amt * n.total / nullif(n.old, 0), 2),
          ownpay_amt = round(s.ownpay_amt * n.total / nullif(n.old, 0), 2)
        from newcost n where s.setl_id = n.setl_id
        """
    )


def _upcoding(con, d: Drift, rng) -> None:
    ids = _pick(
        con,
        d,
        0.35,
        rng,
        "setl_id not in (select setl_id from diseinfo where diag_code in "
        f"({', '.join(repr(c) for c in UPCODE_DX)}))",
    )
    codes = rng.choice(UPCODE_DX, len(ids))
    add = pa.table({"setl_id": ids, "code": codes.tolist()})
    con.register("_add", add)
    con.execute(
        """
        insert into diseinfo (setl_id, diag_srt_no, diag_code, diag_name, maindiag_flag,
                              diag_type, adm_cond_type)
        select a.setl_id, coalesce(m.n, 0) + 1, a.code, a.code, '0', '1', '1'
        from _add a left join (select setl_id, max(diag_srt_no) n from diseinfo group by 1) m
          using (setl_id)
        """
    )
    con.unregister("_add")


def _split_admission(con, d: Drift, rng) -> None:
    _pick(con, d, 0.2, rng, "date_diff('day', adm_time, dscg_time) >= 6")
    con.execute(
        """
        create or replace temp table cut as
        select setl_id, mdtrt_id, cast(adm_time as date)
               + cast(date_diff('day', adm_time, dscg_time) // 2 as integer) as mid
        from setl_list where setl_id in (select setl_id from pick)
        """
    )
    # The second stay starts the day after the first ends; lines from then on move to it.
    con.execute(
        """
        insert into setl_list
        select s.* replace (s.setl_id || 'B' as setl_id, s.mdtrt_id || 'B' as mdtrt_id,
               s.medcasno || 'B' as medcasno, cast(c.mid + 1 as timestamp) + interval 9 hour as adm_time,
               '2' as adm_way, date_diff('day', c.mid + 1, s.dscg_time) as act_ipt_days,
               cast(c.mid + 1 as date) as setl_begn_date)
        from setl_list s join cut c using (setl_id)
        """
    )
    con.execute(
        """
        update setl_list s set dscg_time = cast(c.mid as timestamp) + interval 10 hour,
               act_ipt_days = date_diff('day', s.adm_time, c.mid), setl_end_date = c.mid
        from cut c where s.setl_id = c.setl_id
        """
    )
    con.execute(
        """
        update feedetail f set mdtrt_id = f.mdtrt_id || 'B', setl_id = f.setl_id || 'B'
        from cut c where f.mdtrt_id = c.mdtrt_id and cast(f.fee_ocur_time as date) > c.mid
        """
    )
    con.execute(
        "insert into diseinfo select * replace (setl_id || 'B' as setl_id) from diseinfo "
        "where setl_id in (select setl_id from cut)"
    )
    con.execute("insert into pick select setl_id || 'B' from cut; ")
    _rescale_amounts(con)


def _los_inflation(con, d: Drift, rng) -> None:
    _pick(con, d, 0.8, rng)
    con.execute(
        """
        create or replace temp table ext as
        select setl_id, mdtrt_id, greatest(2, cast(round(date_diff('day', adm_time, dscg_time) * 0.6) as integer)) k
        from setl_list where setl_id in (select setl_id from pick)
        """
    )
    # Extra bed (01) and nursing (07) lines, one per added day, copied from the stay's own.
    con.execute(
        """
        insert into feedetail
        select f.* exclude (r) replace (f.feedetl_sn || 'X' || g.i as feedetl_sn,
                            f.fee_ocur_time + to_days(cast(g.i as integer)) as fee_ocur_time)
        from (select *, row_number() over (partition by mdtrt_id, med_chrgitm_type
                                           order by fee_ocur_time desc, feedetl_sn) r
              from feedetail where med_chrgitm_type in ('01', '07') and cnt > 0) f
        join ext e on f.mdtrt_id = e.mdtrt_id
        cross join lateral (select unnest(range(1, e.k + 1)) i) g
        where f.r = 1
        """
    )
    con.execute(
        """
        update setl_list s set dscg_time = s.dscg_time + to_days(e.k),
               act_ipt_days = s.act_ipt_days + e.k,
               setl_end_date = s.setl_end_date + e.k
        from ext e where s.setl_id = e.setl_id
        """
    )
    _rescale_amounts(con)


def _low_standard(con, d: Drift, rng) -> None:
    _pick(con, d, 0.4, rng, "dscg_way = '1'")
    con.execute(
        """
        delete from feedetail f using setl_list s
        where f.mdtrt_id = s.mdtrt_id and s.setl_id in (select setl_id from pick)
          and cast(f.fee_ocur_time as date) > cast(s.adm_time as date)
        """
    )
    con.execute(
        """
        update setl_list set dscg_time = cast(cast(adm_time as date) + 1 as timestamp) + interval 10 hour,
               act_ipt_days = 1, setl_end_date = cast(adm_time as date) + 1
        where setl_id in (select setl_id from pick)
        """
    )
    con.execute("delete from oprninfo where setl_id in (select setl_id from pick)")
    _rescale_amounts(con)


def _low_risk_death(con, d: Drift, rng) -> None:
    # Principal diagnoses common in the region and never fatal there: low-risk by any grouping.
    safe = (
        "setl_id in (select setl_id from diseinfo where maindiag_flag = '1' and diag_code in ("
        "select di.diag_code from diseinfo di join setl_list s using (setl_id) "
        "where di.maindiag_flag = '1' group by 1 "
        "having count(*) >= 10 and sum(case when s.dscg_way = '5' then 1 else 0 end) = 0))"
    )
    _pick(con, d, 0.1, rng, f"dscg_way = '1' and {safe}")
    con.execute("update setl_list set dscg_way = '5' where setl_id in (select setl_id from pick)")


def _selfpay_shift(con, d: Drift, rng) -> None:
    _pick(con, d, 0.9, rng)
    con.execute(
        """
        update setl_list set
          ownpay_amt = coalesce(ownpay_amt, 0) + round(medfee_sumamt * 0.15, 2),
          psn_cashpay = coalesce(psn_cashpay, 0) + round(medfee_sumamt * 0.15, 2),
          fund_pay_sumamt = fund_pay_sumamt - round(medfee_sumamt * 0.15, 2),
          hifp_pay = hifp_pay - round(medfee_sumamt * 0.15, 2)
        where setl_id in (select setl_id from pick) and fund_pay_sumamt > medfee_sumamt * 0.15
        """
    )


def _outlier_inflation(con, d: Drift, rng) -> None:
    _pick(con, d, 0.1, rng)
    con.execute(
        """
        update feedetail f set pric = f.pric * 3.5,
               det_item_fee_sumamt = round(f.det_item_fee_sumamt * 3.5, 2)
        from setl_list s
        where f.mdtrt_id = s.mdtrt_id and s.setl_id in (select setl_id from pick)
        """
    )
    _rescale_amounts(con)


def _decoy(con, d: Drift, rng) -> None:
    """Clean growth: 40 % more cases from the start month, copies of its own cases as new
    patients (same diagnoses, stays and fees), so every rate stays where it was."""
    _pick(con, d, 0.4, rng)
    suffix = "'G'"
    con.execute(
        f"""
        insert into setl_list select * replace (setl_id || {suffix} as setl_id,
            mdtrt_id || {suffix} as mdtrt_id, psn_no || {suffix} as psn_no,
            medcasno || {suffix} as medcasno, certno || {suffix} as certno)
        from setl_list where setl_id in (select setl_id from pick)
        """
    )
    for name in ("diseinfo", "oprninfo"):
        con.execute(
            f"insert into {name} select * replace (setl_id || {suffix} as setl_id) from {name} "
            "where setl_id in (select setl_id from pick)"
        )
    con.execute(
        f"""
        insert into feedetail select * replace (feedetl_sn || {suffix} as feedetl_sn,
            init_feedetl_sn || {suffix} as init_feedetl_sn, mdtrt_id || {suffix} as mdtrt_id,
            setl_id || {suffix} as setl_id)
        from feedetail where mdtrt_id in
          (select mdtrt_id from setl_list where setl_id in (select setl_id from pick))
        """
    )
    if con.sql(
        "select count(*) from information_schema.tables where table_name = 'medrcd'"
    ).fetchall()[0][0]:
        con.execute(
            f"""
            insert into medrcd select * replace (medcasno || {suffix} as medcasno) from medrcd
            where medcasno in
              (select medcasno from setl_list where setl_id in (select setl_id from pick))
            """
        )
