"""Shared fixtures: powered simulated chips."""

from __future__ import annotations

import pytest

from sim_chip import MX64, ChipParameters
from tests.sim_chip.chips import powered


@pytest.fixture
def chip() -> MX64:
    return powered(1)


@pytest.fixture
def ideal_chip() -> MX64:
    return powered(1, ChipParameters.ideal())
