"""`patron topics` and `patron consent` (being built)."""

from __future__ import annotations

import typer

consent_app = typer.Typer(help="Consent: topics, a person's state and ledger, expiry.", no_args_is_help=True)
