"""``huiyan serve``: the review service (FastAPI under uvicorn)."""

from __future__ import annotations

import errno
import os
from pathlib import Path
from typing import Annotated, Any

import typer

from huiyan.cli import supervisor
from huiyan.cli.console import console
from huiyan.engine import DEFAULT_STORE

StateOption = Annotated[
    str,
    typer.Option(
        "--state",
        help="复核工作库: SQLite 文件或 postgresql://… (workflow database)",
        envvar="HUIYAN_STATE",
    ),
]


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)


def serve(
    db: Annotated[Path, typer.Option("--db", help="分析库文件 (the analytic store file)")] = Path(
        DEFAULT_STORE
    ),
    state: StateOption = "huiyan-state.sqlite",
    host: Annotated[str, typer.Option(help="监听地址")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="端口")] = 8000,
    workers: Annotated[int, typer.Option(help="工作进程数 (uvicorn workers)")] = 2,
    attachments: Annotated[Path, typer.Option(help="申诉附件目录 (attachment directory)")] = Path(
        "huiyan-attachments"
    ),
) -> None:
    """启动复核服务: REST API /api/v1 (文档 /api/v1/docs) 与管理界面."""
    try:
        import uvicorn
    except ImportError:
        console.print("[red]服务组件未安装: 请安装 huiyan[service][/]")
        raise typer.Exit(2) from None
    # The app is built from the environment in each worker process (the CLI and the service
    # packages never import each other).
    os.environ.setdefault("HUIYAN_REALTIME_WARM", "1")  # compile the real-time rules at start-up
    os.environ["HUIYAN_DB"] = str(db.resolve())
    os.environ["HUIYAN_STATE"] = state
    os.environ["HUIYAN_ATTACHMENT_DIR"] = str(attachments.resolve())
    console.print(f"慧眼复核服务: http://{host}:{port}/api/v1/docs  (数据: {db}, 工作库: {state})")
    options: dict[str, Any] = {"log_level": "warning", "access_log": False}
    if workers > 1 and supervisor.supported():
        try:
            started = supervisor.run(host, port, workers, options)
        except OSError as exc:
            why = "端口已被占用" if exc.errno == errno.EADDRINUSE else exc.strerror or str(exc)
            console.print(f"[red]无法监听 {host}:{port}: {why}[/]")
            raise typer.Exit(1) from None
        if not started:
            console.print("[red]服务启动失败, 见上方错误[/]")
            raise typer.Exit(1)
        return
    uvicorn.run(supervisor.APP, factory=True, host=host, port=port, workers=workers, **options)
