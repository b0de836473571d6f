"""``huiyan synth OUT_DIR``: write a synthetic region-year with planted, labelled violations."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from huiyan.cli.console import console, user_errors


def register(app: typer.Typer) -> None:
    """Register this area's commands on ``app``."""

    @app.command("synth")
    def synth(
        out_dir: Annotated[Path, typer.Argument(help="数据集输出目录")],
        cases: int = typer.Option(20_000, "--cases", help="结算单数量"),
        seed: int = typer.Option(1, "--seed", help="随机种子（相同种子生成相同文件）"),
        hospitals: int | None = typer.Option(None, "--hospitals", help="医院数量"),
        months: int = typer.Option(12, "--months", help="月份数"),
        violation_rate: float = typer.Option(0.05, "--violation-rate", help="违规病例比例"),
        fmt: str = typer.Option("csv", "--format", help="csv 或 parquet"),
        labels_dir: Annotated[
            Path | None,
            typer.Option("--labels-dir", help="标签目录（默认 OUT_DIR 旁的 <名称>-labels）"),
        ] = None,
        no_medrcd: bool = typer.Option(False, "--no-medrcd", help="不生成病案首页"),
        defect_rate: float = typer.Option(
            0.0, "--defect-rate", help="植入结算清单数据缺陷的病例比例（标签写入 qc_defects.csv）"
        ),
        drift: bool = typer.Option(
            False, "--drift", help="下半年植入监测漂移与对照医院（标签写入 drift.csv）"
        ),
    ) -> None:
        """生成合成统筹区数据（含已标注的违规病例）。"""
        from huiyan.synth import generate

        with user_errors(), console.status("正在生成合成数据…"):
            report = generate(
                out_dir,
                cases=cases,
                seed=seed,
                hospitals=hospitals,
                months=months,
                violation_rate=violation_rate,
                fmt=fmt,
                # Next to the region and named after it: two regions generated in the same
                # folder keep their own labels.
                labels_dir=labels_dir or out_dir.parent / f"{out_dir.name}-labels",
                with_medrcd=not no_medrcd,
                defect_rate=defect_rate,
            )
        stamp_labels(report.out_dir, report.labels_path.parent)
        table = Table(title=f"合成数据 {report.out_dir}")
        table.add_column("表", overflow="fold")
        table.add_column("行数", justify="right", overflow="fold")
        for name, rows in report.rows.items():
            table.add_row(name, f"{rows:,}")
        console.print(table)
        console.print(
            f"违规标签 {sum(report.labels_by_class.values()):,} 条 → {report.labels_path}"
        )
        if drift:
            from huiyan.synth.drift import plant_drifts

            with user_errors():
                drifts = plant_drifts(out_dir, report.labels_path.parent, seed=seed)
            console.print(f"监测漂移 {len(drifts)} 处 → {report.labels_path.parent / 'drift.csv'}")
        if report.defects_path is not None:
            console.print(f"数据缺陷 {report.defects:,} 处 → {report.defects_path}")


STAMP = "region.json"


def stamp_labels(data_dir: Path, labels_dir: Path) -> Path:
    """Record beside the labels which region they belong to: the sha256 of its settlement
    file, as ingest records it, so ``evaluate`` can refuse another region's labels."""
    import hashlib
    import json

    setl = next((p for p in data_dir.glob("setl_list.*") if p.is_file()), None)
    digest = hashlib.sha256(setl.read_bytes()).hexdigest() if setl is not None else None
    path = labels_dir / STAMP
    path.write_text(
        json.dumps({"region": str(data_dir), "setl_list_sha256": digest}, ensure_ascii=False),
        encoding="utf-8",
    )
    return path
