"""`patron gdpr export|erase` (being built)."""

from __future__ import annotations

import typer

gdpr_app = typer.Typer(help="Data rights: export or erase everything about a person.", no_args_is_help=True)
