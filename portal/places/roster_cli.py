"""``flask roster …`` commands."""

from __future__ import annotations

from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup
from flask_babel import force_locale, ngettext
from flask_babel import gettext as _

roster_cli = AppGroup("roster", help="Import a compound's unit roster.")


def echo_counts(result, *, dry_run: bool = False) -> None:
    """The counts of an import (or of a dry run), one fact per line."""
    from portal.i18n import fmt_area

    if dry_run:
        click.echo(_("Dry run: nothing has been written."))
    click.echo(_("Rows in the file: %(n)d", n=result.rows))
    click.echo(_("Buildings created: %(n)d", n=result.buildings_created))
    click.echo(
        _(
            "Units created: %(created)d, updated: %(updated)d, unchanged: %(unchanged)d",
            created=result.units_created,
            updated=result.units_updated,
            unchanged=result.units_unchanged,
        )
    )
    click.echo(
        _(
            "Owners created: %(created)d, updated: %(updated)d",
            created=result.owners_created,
            updated=result.owners_updated,
        )
    )
    click.echo(_("Units on record but not in the file (kept): %(n)d", n=result.not_in_file))
    click.echo(
        _(
            "The compound has %(buildings)d buildings, %(units)d units, %(area)s m² in total.",
            buildings=result.building_count,
            units=result.unit_count,
            area=fmt_area(result.total_area_m2),
        )
    )


@roster_cli.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--compound", "compound_code", required=True, help="The compound's code.")
@click.option(
    "--lang",
    default=None,
    help="Language of the messages: zh_Hans_CN (the default locale) or en.",
)
@click.option("--dry-run", is_flag=True, help="Check the file and show the counts only.")
def import_command(file: Path, compound_code: str, lang: str | None, dry_run: bool) -> None:
    """Import the unit roster FILE (CSV or .xlsx) into the compound with code CODE.

    A file with any bad line imports nothing: every bad line is listed and the exit status is 1.
    Importing the same file again changes nothing.
    """
    from portal.errors import DomainError, NotFound
    from portal.extensions import db
    from portal.places import roster_service, service
    from portal.places.roster import MAX_BYTES
    from portal.places.roster_labels import message

    locale = lang or current_app.config["BABEL_DEFAULT_LOCALE"]
    with force_locale(locale):
        try:
            compound = service.get_compound(compound_code)
        except NotFound:
            raise click.ClickException(
                _("No compound has the code %(code)s.", code=compound_code)
            ) from None
        if file.stat().st_size > MAX_BYTES:
            raise click.ClickException(
                _("The file is larger than %(mb)d MB.", mb=MAX_BYTES // 2**20)
            )
        data = file.read_bytes()
        click.echo(
            _("Importing %(file)s into %(compound)s…", file=file.name, compound=compound.name)
        )

        if dry_run:
            result = roster_service.preview(None, compound, data, file.name)
            if result.ok:
                echo_counts(result, dry_run=True)
                return
            errors = result.errors
        else:
            bar = None

            def progress(done: int, total: int) -> None:
                nonlocal bar
                if bar is None:
                    bar = click.progressbar(length=max(total, 1), label=_("Importing"))
                    bar.__enter__()
                bar.update(done - bar.pos)

            try:
                result = roster_service.import_roster(
                    None, compound, data, file.name, progress=progress
                )
            except roster_service.RosterInvalid as exc:
                db.session.rollback()
                errors = exc.errors
            except DomainError as exc:
                db.session.rollback()
                raise click.ClickException(exc.message) from exc
            else:
                db.session.commit()
                errors = []
            finally:
                if bar is not None:
                    bar.__exit__(None, None, None)
            if not errors:
                echo_counts(result)
                return

        click.echo(
            ngettext(
                "The file has %(num)d problem; nothing was imported:",
                "The file has %(num)d problems; nothing was imported:",
                len(errors),
            ),
            err=True,
        )
        for error in errors:
            click.echo("  - " + message(error), err=True)
        raise SystemExit(1)
