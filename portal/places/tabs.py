"""The compound hub's sections: each domain registers a loader for its tab.

A loader takes ``(compound, viewer, request_args)`` and returns the template context of the tab's
fragment ``templates/places/_tab_<slug>.html``. A tab without a loader shows its honest empty
state (``templates/places/_tab_empty.html``).
"""

from __future__ import annotations

from collections.abc import Callable

TabLoader = Callable[..., dict]
_LOADERS: dict[str, TabLoader] = {}
_AUDIENCES: dict[str, Callable[..., tuple]] = {}


def register(slug: str, audience: Callable[..., tuple] | None = None):
    """Decorator: ``@register("notices") def load(compound, viewer, args): return {...}``.

    ``audience(compound, viewer)``, when given, returns a tuple of everything about the viewer
    that the tab's output depends on (``(may_post,)``): signed-in viewers with the same tuple
    share one stored page (``portal.pagecache.shared_view``). A tab without it shows something
    personal (the proposals a viewer supported) and is rendered for each signed-in request.
    """

    def wrap(fn: TabLoader) -> TabLoader:
        _LOADERS[slug] = fn
        if audience is not None:
            _AUDIENCES[slug] = audience
        return fn

    return wrap


def is_shared(slug: str) -> bool:
    """Whether signed-in viewers can share the tab at all (see ``register``)."""
    return slug not in _LOADERS or slug in _AUDIENCES


def audience(slug: str, compound, viewer) -> tuple | None:
    """The tab's audience of ``viewer`` (see ``register``), or None when the tab is personal.
    A tab without a loader shows the same empty state to everyone."""
    if slug not in _LOADERS:
        return (slug,)
    fn = _AUDIENCES.get(slug)
    return None if fn is None else (slug, *fn(compound, viewer))


def load(slug: str, compound, viewer, args) -> dict:
    loader = _LOADERS.get(slug)
    return loader(compound, viewer, args) if loader else {}
