"""`patron segments` (filled in by the segments issue)."""

from __future__ import annotations

import typer

segments_app = typer.Typer(help="segments", no_args_is_help=True)
