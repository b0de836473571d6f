"""Entry point of the ``huiyan`` console script."""

from __future__ import annotations

import typer

from huiyan.cli import (
    audit,
    auditlog,
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

app = typer.Typer(
    name="huiyan",
    help="慧眼 huiyan — DRG/DIP 支付与医保基金智能监管 (DRG/DIP payment and fund supervision).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,
)

for module in (run, synth, ingest, kb, export, group, qc, price, audit):
    module.register(app)
for module in (serve, users, auditlog):  # the review service (issue 15)
    module.register(app)


if __name__ == "__main__":  # pragma: no cover
    app()
