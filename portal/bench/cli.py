"""``flask bench seed``: build a street or a whole district of data for benchmarks."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup

bench_cli = AppGroup("bench", help="Benchmark tooling.")


@bench_cli.command("seed")
@click.option(
    "--scale",
    type=click.Choice(["street", "district"]),
    default="street",
    show_default=True,
    help="street: a small one for tests (seconds); district: the full data set (minutes).",
)
@click.option("--seed", "seed_value", type=int, default=1, show_default=True, help="Random seed.")
@click.option(
    "--manifest",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Where to write the manifest JSON [default: instance/bench-manifest.json].",
)
@click.option(
    "--now",
    "now_text",
    default=None,
    help="ISO 8601 time the data is built around [default: now]; the same seed and --now "
    "give the same data.",
)
@click.option(
    "--reset",
    is_flag=True,
    help="Delete ALL data in this database first (every table, not only seeded rows).",
)
def seed_command(
    scale: str, seed_value: int, manifest: Path | None, now_text: str | None, reset: bool
) -> None:
    """Fill an empty database with a street or a district of realistic data (bulk inserts),
    showing one line per phase, and write the manifest the benchmark scripts read."""
    from portal.bench.seed import SCALES, SeedRefused, seed
    from portal.extensions import db

    now = None
    if now_text:
        try:
            now = datetime.fromisoformat(now_text)
        except ValueError as e:
            raise click.BadParameter("not an ISO 8601 time", param_hint="--now") from e
        now = now if now.tzinfo else now.replace(tzinfo=UTC)
    path = manifest or Path(current_app.instance_path) / "bench-manifest.json"
    try:
        result = seed(SCALES[scale], seed=seed_value, now=now, echo=click.echo, reset=reset)
    except SeedRefused as e:
        db.session.rollback()
        raise click.ClickException(str(e)) from e
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result, ensure_ascii=False, indent=1), encoding="utf-8")
    counts = result["counts"]
    click.echo(
        f"{scale}: {counts.get('street', 0)} streets, {counts.get('compound', 0):,} compounds, "
        f"{counts.get('unit', 0):,} units, {counts.get('user_account', 0):,} accounts, "
        f"{counts.get('proposal', 0):,} proposals, {counts.get('election', 0)} elections with "
        f"{counts.get('ballot', 0):,} ballots, {counts.get('notice', 0):,} notices, "
        f"{counts.get('volunteer_activity', 0):,} activities in {result['seconds']}s."
    )
    click.echo(f"Manifest: {path} (password for every account: {result['password']})")
