"""The open-data catalogue: each domain registers its datasets; ``/open-data/`` lists them.

A dataset has a slug, a translated title and description, a licence, and the endpoints of its
downloads (CSV, JSON, …). No dataset may contain personal data.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Dataset:
    slug: str
    title: object  # a lazy translated string
    description: object
    downloads: dict[str, str] = field(default_factory=dict)  # format -> endpoint name
    licence: str = "CC-BY-4.0"


_DATASETS: dict[str, Dataset] = {}


def register(dataset: Dataset) -> Dataset:
    _DATASETS[dataset.slug] = dataset
    return dataset


def datasets() -> list[Dataset]:
    return sorted(_DATASETS.values(), key=lambda d: d.slug)
