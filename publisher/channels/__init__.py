"""Channel adapters: one module per channel kind behind the interface in ``base``."""

from __future__ import annotations

import importlib

# Each module registers its adapter on import.
ADAPTER_MODULES: tuple[str, ...] = (
    "publisher.channels.website",
    "publisher.channels.facebook",
    "publisher.channels.youtube",
    "publisher.channels.zalo",
)


def load_adapters() -> None:
    for name in ADAPTER_MODULES:
        importlib.import_module(name)
