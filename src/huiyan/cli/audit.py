"""CLI of the audit: ``huiyan audit``, ``huiyan rules list``, ``huiyan evaluate``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from huiyan.cli.console import console, progress, table, text, user_errors
from huiyan.cli.errors import existing_store, input_file, output_file
from huiyan.engine import DEFAULT_STORE

STAGES = ("pre", "in", "post")
DEFAULT_DB = Path(DEFAULT_STORE)
DEFAULT_XLSX = Path("rules.xlsx")


def register(app: typer.Typer) -> None:
    """Register this area's commands on ``app``."""

    @app.command("audit")
    def audit(
        db: Annotated[Path, typer.Option("--db", help="分析库文件")] = DEFAULT_DB,
        stage: Annotated[str, typer.Option("--stage", help="审核环节 pre/in/post")] = "post",
        config_file: Annotated[
            Path | None, typer.Option("--config", help="地区参数文件 huiyan.yaml")
        ] = None,
    ) -> None:
        """智能审核：运行规则库，结果写入 finding 表（替换本环节上次的结果, 其他环节的结果保留）。"""
        from collections import Counter

        from huiyan.audit.engine import enabled_rules
        from huiyan.errors import InputError
        from huiyan.kb import config
        from huiyan.model.enums import label
        from huiyan.pipeline.context import RunContext
        from huiyan.pipeline.steps import audit as step

        with user_errors():
            if stage not in STAGES:
                raise InputError(f"--stage 应为 {'/'.join(STAGES)} 之一, 而不是 {stage!r}")
            cfg = config.load(config_file)
            with existing_store(db, need=("setl_list",)) as store:
                n = len(enabled_rules(cfg["audit"], stage=stage))
                with progress() as bar:
                    bar.add_task(f"审核规则 {n} 条", total=None)
                    report = step.run(RunContext(store, cfg), stage=stage)
                stored = store.table("finding")
                findings = store.to_arrow(stored.filter(stored.stage == stage))
            by_class = Counter(findings.column("vola_bhvr_type").to_pylist())
            t = table(
                "审核结果", ["违规类别", "名称", "条数"], numeric=("条数",), codes=("违规类别",)
            )
            for cls, count in sorted(by_class.items()):
                t.add_row(cls, label("vola_bhvr_type", cls), f"{count:,}")
            console.print(t)
            for note in report.notes:
                console.print(note)

    rules_app = typer.Typer(help="审核规则库", no_args_is_help=True)
    app.add_typer(rules_app, name="rules")

    @rules_app.command("list")
    def rules_list(
        fmt: Annotated[str, typer.Option("--format", help="table 或 xlsx")] = "table",
        out: Annotated[Path, typer.Option("--out", help="xlsx 输出文件")] = DEFAULT_XLSX,
        config_file: Annotated[
            Path | None, typer.Option("--config", help="地区参数文件 huiyan.yaml")
        ] = None,
    ) -> None:
        """规则目录：编号、名称、类别、严重程度、参数、政策依据。"""
        from rich.table import Table

        from huiyan.audit.api import CATALOG_COLUMNS, catalog
        from huiyan.errors import InputError
        from huiyan.kb import config

        with user_errors():
            if fmt not in ("table", "xlsx"):
                raise InputError(f"--format 应为 table 或 xlsx, 而不是 {fmt!r}")
            if fmt == "xlsx":
                output_file(out, (".xlsx",))
            rows = catalog(config.load(config_file))
            if fmt == "xlsx":
                _write_xlsx(rows, out, CATALOG_COLUMNS)
                console.print(f"已写出规则目录 {rows.num_rows} 条到 {out}")
                return
            t = Table(title=f"审核规则目录 ({rows.num_rows} 条)")
            shown = ("rule_id", "rule_name", "vola_bhvr_type", "sev_deg", "params", "vola_evid")
            for col in shown:
                t.add_column(CATALOG_COLUMNS[col], overflow="fold")
            for r in rows.to_pylist():
                t.add_row(*[str(r[c]) for c in shown])
            console.print(t)

    @app.command("evaluate")
    def evaluate_cmd(
        labels: Annotated[Path, typer.Option("--labels", help="合成数据的标签 labels.csv")],
        db: Annotated[Path, typer.Option("--db", help="分析库文件")] = DEFAULT_DB,
    ) -> None:
        """按违规类别评估审核结果：精确率、召回率、F1 与发现金额/植入金额。"""
        from huiyan.audit.api import evaluate_store
        from huiyan.model.enums import label

        def pct(v: float | None) -> str:
            return "-" if v is None else f"{v:.3f}"

        with user_errors():
            input_file(labels, "标签文件")
            with existing_store(db, need=("finding", "setl_list"), read_only=True) as store:
                _labels_belong(store, labels, db)
                scores = evaluate_store(store, labels)
            numbers = ("标签", "发现", "命中", "精确率", "召回率", "F1")
            t = table(
                "分类别审核质量",
                ["类别", *numbers, "发现金额", "植入金额"],
                numeric=(*numbers, "发现金额", "植入金额"),
            )
            for r in scores.to_pylist():
                t.add_row(
                    f"{r['vola_bhvr_type']} {label('vola_bhvr_type', r['vola_bhvr_type'])}",
                    text(r["labels"]),
                    text(r["findings"]),
                    text(r["tp"]),
                    pct(r["precision"]),
                    pct(r["recall"]),
                    pct(r["f1"]),
                    text(r["amount_found"], money=True),
                    text(r["amount_planted"], money=True),
                )
            console.print(t)


# Share of labelled settlements that must be in the store: a few may have been quarantined at
# ingest, but labels of another region (same generator, other seed) match almost none.
LABELS_MATCH = 0.9


def _labels_belong(store, labels: Path, db: Path) -> None:  # noqa: ANN001 - Store, lazily
    import json

    from huiyan.cli.errors import fail
    from huiyan.cli.synth import STAMP

    stamp = labels.parent / STAMP
    if stamp.is_file() and store.has("ingest_batch"):
        digest = json.loads(stamp.read_text("utf-8")).get("setl_list_sha256")
        b = store.table("ingest_batch")
        mine = b.filter((b.table_name == "setl_list") & (b.content_hash == digest))
        n = store.to_arrow(mine.limit(1)).num_rows
        if not n:
            fail(
                f"{labels}: 标签与数据库 {db} 不匹配 labels do not belong to this store "
                f"(标签所属数据集的结算清单未导入此库; {stamp})"
            )
        return
    import pyarrow.csv as pacsv

    ids = pacsv.read_csv(
        labels,
        convert_options=pacsv.ConvertOptions(
            column_types={"setl_id": "string"}, strings_can_be_null=True
        ),
    ).column("setl_id")
    marked = {i for i in ids.to_pylist() if i is not None}
    stored = store.table("setl_list").select("setl_id").distinct()
    labelled = len(marked)
    found = len(marked & set(store.to_arrow(stored).column("setl_id").to_pylist()))
    if labelled and found < LABELS_MATCH * labelled:
        fail(
            f"{labels}: 标签与数据库 {db} 不匹配 labels do not belong to this store "
            f"({labelled:,} 个标注结算中只有 {found:,} 个在库中)"
        )


def _write_xlsx(rows, out: Path, headers: dict[str, str]) -> None:  # noqa: ANN001
    from huiyan.report.tabular import Sheet, write_xlsx

    data = rows.select(list(headers))
    write_xlsx(out, [Sheet("审核规则", data, headers=list(headers.values()))])
