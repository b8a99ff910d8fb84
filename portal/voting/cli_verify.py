"""``flask election verify ELECTION_ID``: recompute an election's ledger and tally from the
database and say, in plain English, whether they still agree with what was published.

Exit status: 0 when every check passes, 1 on any mismatch, 2 when there is no such election.
"""

from __future__ import annotations

import click
from sqlalchemy import select

from portal.voting.recount_cli import election_cli


def _positions(numbers) -> str:
    return ", ".join(str(n) for n in numbers)


def _ballots(n: int) -> str:
    return f"{n} ballot" if n == 1 else f"{n} ballots"


@election_cli.command("verify")
@click.argument("election_id", type=int)
def verify_command(election_id: int) -> None:
    """Check election ELECTION_ID: the hash chain of its ledger, each ledger record against
    its ballot, the published head hash, and the recorded tally against a recount."""
    from portal.extensions import db
    from portal.voting import service
    from portal.voting.models import Election, LedgerEntry

    ctx = click.get_current_context()
    election = db.session.get(Election, election_id)
    if election is None:
        click.echo(f"Error: there is no election with id {election_id}.", err=True)
        ctx.exit(2)

    result = service.verify(election)
    unledgered = result.unledgered
    last_hash = db.session.scalar(
        select(LedgerEntry.hash)
        .where(LedgerEntry.election_id == election.id)
        .order_by(LedgerEntry.seq.desc())
        .limit(1)
    )

    ok = result.ok
    click.echo(
        f"Election {election.id}: {election.title} — compound {election.compound.name}, "
        f"status {election.status}."
    )
    click.echo(f"Ledger: {_ballots(result.ballots)}.")

    if result.chain_breaks:
        named = result.chain_breaks
        click.echo(
            "Hash chain: BROKEN at ledger position(s) "
            f"{_positions(named)} — the stored hash does not follow from the entry before "
            "and the record."
        )
    else:
        click.echo("Hash chain: intact — every entry follows from the one before.")

    if result.record_mismatches:
        click.echo(
            "Ballot records: MISMATCH at ledger position(s) "
            f"{_positions(result.record_mismatches)} — the ballot in the database is not "
            "the one the ledger recorded."
        )
    else:
        click.echo("Ballot records: every ledger record matches its ballot in the database.")

    if unledgered:
        click.echo(
            f"Ballots outside the ledger: {_ballots(unledgered)} marked as counted but never "
            "appended to the ledger."
        )

    published = election.ledger_head or "(none)"
    if result.head_matches:
        click.echo(f"Published head: matches the ledger ({published}).")
    else:
        click.echo(
            f"Published head: MISMATCH — published {published}, "
            f"the ledger ends at {last_hash or '(empty ledger)'}."
        )

    if result.tally_matches is None:
        click.echo("Tally: not recorded yet (the count is recorded when the election closes).")
    elif result.tally_matches:
        click.echo("Tally: the recorded result matches a recount from the database.")
    else:
        click.echo(
            "Tally: MISMATCH — a recount from the database differs from the recorded result."
        )

    if ok:
        click.echo("All checks passed.")
        ctx.exit(0)
    click.echo("Verification FAILED: see the lines marked above.")
    ctx.exit(1)
