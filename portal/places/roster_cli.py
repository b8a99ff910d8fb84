"""``flask roster …`` commands."""

from flask.cli import AppGroup

roster_cli = AppGroup("roster", help="Import a compound's unit roster.")
