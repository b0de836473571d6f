"""``huiyan audit-log``: show and verify the service's tamper-evident audit log."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from huiyan.cli.console import console, err_console, user_errors
from huiyan.cli.serve import StateOption

log_app = typer.Typer(help="审计日志 (tamper-evident audit log)", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(log_app, name="audit-log")


def _session(state: str):  # noqa: ANN202
    from huiyan.review.db import make_engine, session_factory

    return session_factory(make_engine(state))()


@log_app.command("verify")
def verify(state: StateOption = "huiyan-state.sqlite") -> None:
    """校验哈希链: 任何记录被修改、删除或重排都会被发现 (exit 1)."""
    from huiyan.review.auditlog import verify as run

    with user_errors(), _session(state) as s:
        v = run(s)
    if v.ok:
        console.print(f"[green]审计日志完整[/]: {v.entries:,} 条记录, 哈希链校验通过")
        return
    err_console.print(f"[bold red]审计日志被篡改[/]: 第 {v.first_bad_seq} 条记录 — {v.reason}")
    raise typer.Exit(1)


@log_app.command("show")
def show(
    state: StateOption = "huiyan-state.sqlite",
    last: Annotated[int, typer.Option(help="显示最后 N 条")] = 20,
) -> None:
    """显示最近的审计日志记录."""
    from sqlalchemy import select

    from huiyan.review.db import AuditEntry

    with user_errors(), _session(state) as s:
        rows = list(s.scalars(select(AuditEntry).order_by(AuditEntry.seq.desc()).limit(last)))
    t = Table("序号", "时间(UTC)", "操作人", "操作", "对象", "详情")
    for e in reversed(rows):
        t.add_row(
            str(e.seq),
            e.at.isoformat(),
            e.actor,
            e.action,
            f"{e.object_type}:{e.object_id}",
            e.detail,
        )
    console.print(t)
