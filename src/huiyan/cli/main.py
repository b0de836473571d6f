"""Entry point of the ``huiyan`` console script."""

from __future__ import annotations

from typing import Annotated

import typer

from huiyan.cli import (
    audit,
    auditlog,
    backtest,
    export,
    group,
    ingest,
    kb,
    price,
    qc,
    run,
    serve,
    synth,
    users,
)
from huiyan.cli.errors import HuiyanGroup

app = typer.Typer(
    cls=HuiyanGroup,
    name="huiyan",
    help="慧眼 huiyan — DRG/DIP 支付与医保基金智能监管 (DRG/DIP payment and fund supervision).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,
)


def _show_version(value: bool) -> None:
    if value:
        from importlib.metadata import version

        typer.echo(f"huiyan {version('huiyan')}")
        raise typer.Exit()


@app.callback()
def _root(
    show_version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_show_version, is_eager=True, help="显示版本 (show the version)"
        ),
    ] = False,
) -> None:
    """慧眼 huiyan — DRG/DIP 支付与医保基金智能监管 (DRG/DIP payment and fund supervision)."""


for module in (run, synth, ingest, kb, export, group, qc, price, audit):
    module.register(app)
__import__("huiyan.cli.monitor", fromlist=["register"]).register(app)  # monitor
for module in (serve, users, auditlog, backtest):  # the review service (issue 15)
    module.register(app)


if __name__ == "__main__":  # pragma: no cover
    app()
