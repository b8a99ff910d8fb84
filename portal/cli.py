"""Command-line interface: ``portal …`` or ``flask --app portal …``."""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import AppGroup, FlaskGroup

from portal.extensions import db

users_cli = AppGroup("users", help="Manage user accounts.")
translations_cli = AppGroup("translations", help="Extract, update and compile the catalogs.")


@users_cli.command("create-admin")
@click.argument("phone")
@click.option("--name", default="管理员", show_default=True, help="Display name.")
@click.password_option(help="Password (asked for when not given).")
def create_admin(phone: str, name: str, password: str) -> None:
    """Create a site administrator with mobile number PHONE (or promote that account)."""
    from portal.accounts import service
    from portal.errors import DomainError
    from portal.validators import normalise_mobile

    normal = normalise_mobile(phone)
    if normal is None:
        raise click.BadParameter("not a mainland mobile number", param_hint="PHONE")
    try:
        service.create_admin(normal, password, name)
    except DomainError as e:
        db.session.rollback()
        raise click.ClickException(e.message) from e
    db.session.commit()
    click.echo(f"Administrator {normal} is ready.")


@translations_cli.command("extract")
def tr_extract() -> None:
    """Extract messages into translations/messages.pot and update both catalogs."""
    import os

    from babel.messages.frontend import CommandLineInterface

    from portal import ROOT

    os.chdir(ROOT)
    pybabel = CommandLineInterface()
    pybabel.run(
        ["pybabel", "extract", "-F", "babel.cfg", "-k", "_l", "--no-location", "--sort-output"]
        + ["--ignore-dirs", ".*"]
        + ["-o", "translations/messages.pot", "."]
    )
    pybabel.run(
        ["pybabel", "update", "-i", "translations/messages.pot", "-d", "translations"]
        + ["--no-fuzzy-matching", "--ignore-obsolete"]
    )


@translations_cli.command("compile")
def tr_compile() -> None:
    """Compile the catalogs into the instance folder (the app also does this at start)."""
    from pathlib import Path

    from flask import current_app

    from portal import ROOT
    from portal.i18n import compile_catalogs

    done = compile_catalogs(ROOT / "translations", Path(current_app.instance_path) / "translations")
    click.echo("compiled: " + (", ".join(done) if done else "all up to date"))


def register_cli(app: Flask) -> None:
    app.cli.add_command(users_cli)
    app.cli.add_command(translations_cli)
    from portal.demo import demo_command

    app.cli.add_command(demo_command)
    from portal.places.roster_cli import roster_cli

    app.cli.add_command(roster_cli)
    from portal.proposals.cli import proposals_cli

    app.cli.add_command(proposals_cli)
    from portal.voting.recount_cli import election_cli

    app.cli.add_command(election_cli)
    import portal.voting.cli_verify  # noqa: F401
    from portal.bench.cli import bench_cli

    app.cli.add_command(bench_cli)
    from portal.ops.cli import backup_command, restore_command

    app.cli.add_command(backup_command)
    app.cli.add_command(restore_command)


def main() -> None:
    from portal import create_app

    cli = FlaskGroup(create_app=create_app, help="The red-property resident portal.")
    cli()
