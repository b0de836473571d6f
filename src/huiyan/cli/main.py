"""Entry point of the ``huiyan`` console script."""

from __future__ import annotations

import typer

from huiyan.cli import audit, export, group, ingest, kb, price, qc, run, synth

app = typer.Typer(
    name="huiyan",
    help="慧眼 huiyan — DRG/DIP 支付与医保基金智能监管 (DRG/DIP payment and fund supervision).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,
)

for module in (run, synth, ingest, kb, export, group, qc, price, audit):
    module.register(app)
__import__("huiyan.cli.monitor", fromlist=["register"]).register(app)  # monitor


if __name__ == "__main__":  # pragma: no cover
    app()
