"""One place where errors become a single Chinese + English line and an exit code.

Every command of the ``huiyan`` app runs inside ``HuiyanGroup.invoke``: an ordinary mistake
(missing file, unknown id, store in use, disk full …) prints one line on stderr and exits with
``EXIT_USER``; anything else is a bug and prints one line asking for a report (the traceback is
shown with ``HUIYAN_DEBUG=1``). The checks commands share (``existing_store``, ``output_file``,
``input_file``) live here too so that every command words the same mistake the same way.
"""

from __future__ import annotations

import errno
import os
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import typer
from typer.core import TyperGroup

from huiyan.errors import HuiyanError, InputError

if TYPE_CHECKING:
    from huiyan.engine import Store

EXIT_USER = 2  # the user can fix it: wrong path, unknown id, bad option value
EXIT_INTERNAL = 1  # a bug in huiyan
EXIT_INTERRUPTED = 130
DEBUG_ENV = "HUIYAN_DEBUG"

# Optional dependencies (pyproject extras) by top-level module: a plain install lacks them
# (the engines' own are ``huiyan.engine.EXTRAS``, looked up when one is missing).
EXTRAS = {
    "sqlalchemy": "service",
    "alembic": "service",
    "fastapi": "service",
    "uvicorn": "service",
    "psycopg": "service",
    "multipart": "service",
    "itsdangerous": "service",
}


def _extra(module: str) -> str | None:
    """The pyproject extra that installs ``module``, or None when no extra does."""
    from huiyan.engine import EXTRAS as ENGINE_EXTRAS

    top = module.split(".")[0]
    return EXTRAS.get(top) or ENGINE_EXTRAS.get(top)


def describe(exc: BaseException) -> tuple[str, int] | None:
    """The user-facing line and exit code for ``exc``; ``None`` when it is not a user mistake."""
    if isinstance(exc, HuiyanError):
        return str(exc), EXIT_USER
    if isinstance(exc, KeyboardInterrupt):
        return "已中断 interrupted", EXIT_INTERRUPTED
    if isinstance(exc, ModuleNotFoundError) and (extra := _extra(exc.name or "")) is not None:
        return (
            f"此功能需要可选组件 {extra}: pip install 'huiyan[{extra}]' "
            f"(optional dependency {exc.name} is not installed)",
            EXIT_USER,
        )
    if isinstance(exc, MemoryError):
        return "内存不足 out of memory: 请减少数据量或在更大内存的机器上运行", EXIT_USER
    if isinstance(exc, OSError):
        return _os_error(exc), EXIT_USER
    from huiyan.engine import describe_error

    if (message := describe_error(exc)) is not None:
        return message, EXIT_USER
    return None


def _os_error(exc: OSError) -> str:
    name = exc.filename or ""
    if isinstance(exc, FileNotFoundError):
        # Arrow's writers raise it without a file name, with the path in the message.
        return (
            f"{name}: 文件或目录不存在 not found" if name else f"文件或目录不存在 not found: {exc}"
        )
    if isinstance(exc, PermissionError):
        return f"{name}: 没有读写权限 permission denied"
    if isinstance(exc, IsADirectoryError):
        return f"{name}: 这是目录, 需要文件 is a directory, expected a file"
    if isinstance(exc, NotADirectoryError):
        return f"{name}: 路径中有一段不是目录 not a directory"
    if exc.errno == errno.ENOSPC:
        return f"{name or '输出'}: 磁盘空间不足 no space left on device"
    if exc.errno == errno.EROFS:
        return f"{name}: 文件系统只读 read-only file system"
    reason = exc.strerror or str(exc)
    return f"{name}: 读写失败 I/O error ({reason})" if name else f"读写失败 I/O error: {reason}"


def report(exc: BaseException) -> int:
    """Print the line for ``exc`` and return its exit code (internal errors included)."""
    from huiyan.cli.console import err_console

    described = describe(exc)
    if described is None:
        err_console.print(
            f"[bold red]内部错误 internal error:[/] {type(exc).__name__}: {exc}\n"
            f"这是 huiyan 的缺陷, 请报告; 设置环境变量 {DEBUG_ENV}=1 可显示调用栈 "
            "(this is a bug; set HUIYAN_DEBUG=1 for the traceback)",
            highlight=False,
            soft_wrap=True,
        )
        return EXIT_INTERNAL
    message, code = described
    err_console.print(
        f"[bold red]错误 error:[/] {_escape(message)}", highlight=False, soft_wrap=True
    )
    return code


def _escape(text: str) -> str:
    from rich.markup import escape

    return escape(text)


def fail(message: str) -> NoReturn:
    """Stop the command with one user-facing line (exit code ``EXIT_USER``)."""
    raise InputError(message)


# Exits and usage errors are Typer's own business (help text, exit codes). Typer carries its
# own copy of Click: ``click`` itself is not a dependency of an installed huiyan.
_PASS_THROUGH = (typer.TyperException, typer.Exit, typer.Abort)


class HuiyanGroup(TyperGroup):
    """The root command group: runs every (sub)command under the central error handler."""

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except _PASS_THROUGH:
            raise
        except (Exception, KeyboardInterrupt) as exc:
            if os.environ.get(DEBUG_ENV) and describe(exc) is None:
                raise
            raise typer.Exit(report(exc)) from exc


# --------------------------------------------------------------------------- shared checks


def existing_store(db: Path, *, need: Iterable[str] = (), read_only: bool = False) -> Store:
    """Open the store at ``db`` for a command that reads results: never creates one.

    A missing file, an empty one or a store without the tables ``need`` is a user mistake
    (the usual cause: a mistyped ``--db`` or a step not run yet).
    """
    from huiyan.engine import Store

    hint = f"请先运行 huiyan run 数据集目录 --db {db}"
    if not db.exists():
        fail(f"{db}: 数据库文件不存在 database not found ({hint})")
    if db.is_dir():
        fail(f"{db}: 这是目录, --db 需要分析库文件 is a directory, expected a store file")
    if db.stat().st_size == 0:
        fail(f"{db}: 数据库文件为空 database is empty ({hint})")
    store = Store(db, read_only=read_only)
    try:
        if not store.tables():
            fail(f"{db}: 数据库中没有数据表 database has no tables ({hint})")
        missing = [t for t in need if not store.has(t)]
        if missing:
            fail(
                f"{db}: 缺少数据表 missing tables {', '.join(missing)}; "
                "请先运行产生它们的步骤 (huiyan run) run the step that writes them first"
            )
    except BaseException:
        store.close()
        raise
    return store


def input_file(path: Path, what: str = "输入文件") -> Path:
    """``path`` must be an existing file."""
    if not path.exists():
        fail(f"{path}: {what}不存在 file not found")
    if path.is_dir():
        fail(f"{path}: {what}是目录, 需要文件 is a directory, expected a file")
    return path


def input_dir(path: Path, what: str = "数据集目录") -> Path:
    """``path`` must be an existing folder."""
    if not path.exists():
        fail(f"{path}: {what}不存在 folder not found")
    if not path.is_dir():
        fail(f"{path}: {what}应为目录 not a folder")
    return path


def output_file(path: Path, suffixes: Iterable[str] = ()) -> Path:
    """``path`` can be written: its folder exists and its extension is one of ``suffixes``."""
    allowed = tuple(suffixes)
    if allowed and path.suffix.lower() not in allowed:
        fail(f"{path}: 不支持的输出格式 unsupported output format; 可用 use {', '.join(allowed)}")
    if path.is_dir():
        fail(f"{path}: 这是目录, 需要输出文件名 is a directory, expected a file name")
    parent = path.parent if str(path.parent) else Path(".")
    if not parent.is_dir():
        fail(f"{parent}: 输出目录不存在 output folder does not exist")
    if not os.access(parent, os.W_OK):
        fail(f"{parent}: 输出目录不可写 output folder is not writable")
    return path


def output_dir(path: Path) -> Path:
    """``path`` is a folder that exists or can be created (its parent exists)."""
    if path.exists() and not path.is_dir():
        fail(f"{path}: 已存在同名文件, 需要目录 exists and is not a folder")
    if not path.exists() and not path.parent.is_dir():
        fail(f"{path.parent}: 输出目录的上级目录不存在 parent folder does not exist")
    return path
