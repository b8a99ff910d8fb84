"""Imports every domain's models so that Alembic and ``create_all`` see all tables.

Every subpackage of ``portal`` with a ``models`` module is imported (places, accounts, voting …),
so a new domain's tables are found without editing this file.
"""

import importlib
import pkgutil

import portal
from portal.audit import AuditEvent  # noqa: F401

for _info in sorted(pkgutil.iter_modules(portal.__path__), key=lambda i: i.name):
    if _info.ispkg:
        try:
            importlib.import_module(f"portal.{_info.name}.models")
        except ModuleNotFoundError as exc:
            if exc.name != f"portal.{_info.name}.models":
                raise
