"""Sandbox fixtures for the Facebook and channel tests (imported by those modules, so that other areas' channel
tests keep their own): the real client libraries talk to sandbox servers on 127.0.0.1."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from typing import Any

import pytest

from publisher.channels.sandbox import RunningSandboxes, start_sandboxes

__all__ = ["sandboxes", "graph_sandbox", "fb_settings", "app_config"]


@pytest.fixture
def sandboxes() -> Iterator[RunningSandboxes]:
    running = start_sandboxes()  # every registered sandbox: Graph and YouTube
    yield running
    running.stop()
    # The Graph sandbox refuses the legacy features a new Meta app may not use (multi-ID, method override, …).
    # Loa swallows some failures on purpose (engagement keeps the last figures): a legacy call anywhere must
    # still fail the test that made it. A test that tries one on purpose empties the list.
    tried = running["facebook"].legacy_refused
    assert not tried, f"a Graph legacy feature was used: {tried}"


@pytest.fixture
def graph_sandbox(sandboxes: RunningSandboxes):  # type: ignore[no-untyped-def]
    return sandboxes["facebook"]


@pytest.fixture
def fb_settings(settings, sandboxes: RunningSandboxes):  # type: ignore[no-untyped-def]
    """The app's settings pointed at the sandbox, with a short time-out so that time-out tests are quick."""
    return dataclasses.replace(settings, channel_timeout_seconds=1.0, **sandboxes.settings_overrides())


@pytest.fixture
def app_config(app_config: dict[str, Any], sandboxes: RunningSandboxes) -> dict[str, Any]:
    """Import this into a test module to build its app against the sandboxes."""
    return {**app_config, **sandboxes.settings_overrides(), "channel_timeout_seconds": 2.0}
