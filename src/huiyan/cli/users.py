"""``huiyan users``: add and list accounts of the review service."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from huiyan.cli.console import console, user_errors
from huiyan.cli.serve import StateOption

users_app = typer.Typer(help="复核服务用户 (service users)", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(users_app, name="users")


def _session(state: str):  # noqa: ANN202
    from huiyan.review.db import make_engine, session_factory
    from huiyan.review.migrate import upgrade

    engine = make_engine(state)
    upgrade(engine)
    return session_factory(engine, write=True)()


@users_app.command("add")
def add(
    username: Annotated[str, typer.Argument(help="用户名")],
    role: Annotated[
        str,
        typer.Option(
            help="角色: admin 管理员, auditor 审核员, expert 专家, hospital 医院医保办, viewer 领导"
        ),
    ],
    state: StateOption = "huiyan-state.sqlite",
    medins_code: Annotated[str | None, typer.Option(help="所属机构编码 (医院用户必填)")] = None,
    name: Annotated[str, typer.Option(help="显示名")] = "",
    personal: Annotated[bool, typer.Option(help="可查看未脱敏个人信息 (仅管理员/审核员)")] = False,
    password: Annotated[
        str,
        typer.Option(
            prompt="密码",
            hide_input=True,
            confirmation_prompt=True,
            envvar="HUIYAN_PASSWORD",
            help="密码 (默认提示输入)",
        ),
    ] = "",
) -> None:
    """新增用户."""
    from huiyan.review.users import add_user

    with user_errors(), _session(state) as s:
        u = add_user(
            s,
            username=username,
            password=password,
            role=role,
            medins_code=medins_code,
            display_name=name,
            can_see_personal=personal,
            actor="cli",
        )
        s.commit()
        console.print(f"已创建用户 {u.username} (角色 {u.role}, id {u.id})")


@users_app.command("list")
def list_users(state: StateOption = "huiyan-state.sqlite") -> None:
    """列出用户."""
    from sqlalchemy import select

    from huiyan.review.db import ROLE_LABELS, User

    with user_errors(), _session(state) as s:
        t = Table("id", "用户名", "角色", "机构", "状态")
        for u in s.scalars(select(User).order_by(User.id)):
            t.add_row(
                str(u.id),
                u.username,
                ROLE_LABELS[u.role],
                u.medins_code or "",
                "启用" if u.active else "停用",
            )
        console.print(t)
