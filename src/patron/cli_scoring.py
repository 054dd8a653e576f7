"""`patron scoring` (filled in by the segments issue)."""

from __future__ import annotations

import typer

scoring_app = typer.Typer(help="scoring", no_args_is_help=True)
