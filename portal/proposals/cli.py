"""``flask proposals sweep``: mark overdue proposals, escalate them to the street office, and close
feedback the author never judged. Idempotent; run it from cron every few minutes::

    */5 * * * *  cd /srv/portal && .venv/bin/flask --app portal proposals sweep
"""

from __future__ import annotations

from datetime import UTC, datetime

import click
from flask.cli import AppGroup

from portal.extensions import db

proposals_cli = AppGroup("proposals", help="The proposal board's clocks.")


def _parse_now(value: str | None) -> datetime:
    if not value:
        return datetime.now(UTC)
    try:
        at = datetime.fromisoformat(value)
    except ValueError as exc:
        raise click.BadParameter("an ISO 8601 time, e.g. 2026-03-02T10:00:00+08:00") from exc
    if at.tzinfo is None:
        raise click.BadParameter("give the time zone, e.g. +08:00 or Z")
    return at.astimezone(UTC)


@proposals_cli.command("sweep")
@click.option("--now", "now_text", default=None, help="Pretend it is this time (ISO 8601).")
def sweep_command(now_text: str | None) -> None:
    """Mark overdue proposals and escalate them to the street office (safe to run repeatedly)."""
    from portal.proposals import service

    now = _parse_now(now_text)
    result = service.sweep(now)
    db.session.commit()
    click.echo(
        f"overdue: {result.overdue} newly marked, escalated: {result.escalated}, "
        f"closed without the author's verdict: {result.expired}"
    )
