"""``flask demo``: seed a realistic demo street."""

import click


@click.command("demo")
def demo_command() -> None:
    """Seed the demo street (idempotent)."""
