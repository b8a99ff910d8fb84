"""The compound hub's sections: each domain registers a loader for its tab.

A loader takes ``(compound, viewer, request_args)`` and returns the template context of the tab's
fragment ``templates/places/_tab_<slug>.html``. A tab without a loader shows its honest empty
state (``templates/places/_tab_empty.html``).
"""

from __future__ import annotations

from collections.abc import Callable

TabLoader = Callable[..., dict]
_LOADERS: dict[str, TabLoader] = {}


def register(slug: str):
    """Decorator: ``@register("notices") def load(compound, viewer, args): return {...}``."""

    def wrap(fn: TabLoader) -> TabLoader:
        _LOADERS[slug] = fn
        return fn

    return wrap


def load(slug: str, compound, viewer, args) -> dict:
    loader = _LOADERS.get(slug)
    return loader(compound, viewer, args) if loader else {}
