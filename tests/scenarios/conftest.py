"""Fixtures of the journey tests: one embedded platform per module (``world.py``), faults off around
each test. A module may define its own ``world`` (another population); ``clean`` then uses it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.scenarios.world import World, embedded_world


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    yield from embedded_world(tmp_path_factory)


@pytest.fixture
def clean(world: World) -> Iterator[World]:
    """The module's world with every fault off, before and after the test."""
    world.set_faults()
    yield world
    world.set_faults()
