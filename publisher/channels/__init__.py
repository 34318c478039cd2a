"""Channel adapters: one module per channel kind behind the interface in ``base``."""

from __future__ import annotations

import importlib

ADAPTER_MODULES: tuple[str, ...] = (  # each module registers its adapter on import
    "publisher.channels.facebook",
    "publisher.channels.youtube",
)


def load_adapters() -> None:
    for name in ADAPTER_MODULES:
        importlib.import_module(name)
