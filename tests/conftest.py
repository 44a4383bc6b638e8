"""Shared fixtures: powered simulated chips, and a die served over sockets."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

import pytest

from sim_chip import MX64, ChipParameters
from tests.sim_chip.chips import powered


@pytest.fixture
def chip() -> MX64:
    return powered(1)


@pytest.fixture
def ideal_chip() -> MX64:
    return powered(1, ChipParameters.ideal())


@pytest.fixture
def served_bench_file(tmp_path: Path) -> Callable[[int], AbstractContextManager[tuple, None]]:
    """``served_bench_file(die_seed)``: while its context lasts, a fresh bench world of that die served over
    sockets (no pty); it gives (the world, a bench file that opens it)."""
    from labctl.bench import write_served_bench_file
    from sim_chip.bench import World
    from sim_chip.bench.serve import BenchServer

    @contextmanager
    def serve(die_seed: int) -> Iterator[tuple]:
        world = World(die_seed)
        with BenchServer(world, pty=False) as server:
            path = tmp_path / "bench.toml"
            write_served_bench_file(path, server.resources(), die_seed=die_seed)
            yield world, path
    return serve
