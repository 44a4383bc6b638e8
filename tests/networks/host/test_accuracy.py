"""Accuracies and gaps with their 95 % intervals, checked against what they must give."""

from __future__ import annotations

import numpy as np
import pytest

from procedures.networks.host.accuracy import accuracy, mean_interval, paired_gap, table, wilson


def test_the_wilson_interval_covers_the_accuracy_about_95_percent_of_the_time() -> None:
    rng = np.random.default_rng(1)
    p, n = 0.95, 200
    covered = np.mean([lo <= p <= hi for lo, hi in (wilson(int(k), n) for k in rng.binomial(n, p, 4000))])
    assert 0.93 < covered < 0.97
    assert wilson(200, 200)[1] == pytest.approx(1.0) and wilson(200, 200)[0] < 1.0     # meaningful at 100 %


def test_the_paired_gap_counts_only_disagreements_and_covers_the_truth() -> None:
    a = np.array([1, 1, 1, 0, 0, 1, 1, 1], bool)
    b = np.array([1, 1, 0, 0, 1, 0, 1, 1], bool)
    gap, half = paired_gap(a, b)
    assert gap == pytest.approx(100 * (2 - 1) / 8)
    assert paired_gap(a, a) == (0.0, 0.0)                       # identical classifiers: no uncertainty
    rng = np.random.default_rng(2)
    hits = 0
    for _ in range(2000):                                       # chip = software with 3 % of items flipped
        software = rng.random(1000) < 0.96
        chip = software ^ (rng.random(1000) < 0.03)
        gap, half = paired_gap(software, chip)
        truth = 100 * (0.96 * 0.03 - 0.04 * 0.03)
        hits += abs(gap - truth) <= half
    assert 0.93 < hits / 2000 < 0.97


def test_the_mean_over_dies_uses_student_t() -> None:
    mean, half = mean_interval([1.0, 2.0, 3.0])
    assert mean == 2.0 and half == pytest.approx(4.303 * 1.0 / np.sqrt(3))
    assert np.isnan(mean_interval([1.0])[1])


def test_the_table_reads_in_points_with_intervals() -> None:
    row = {**accuracy("chip", np.arange(100) < 93), **accuracy("software", np.arange(100) < 95)}
    lines = table(("chip", "software"), [("this network", {"a": row["chip_accuracy"], "a_ci": row["chip_accuracy_ci95"],
                                                           "b": row["software_accuracy"], "gap": 2.0, "gap_ci": 1.5})],
                  "100 test digits")
    assert " 93.00 % (" in lines[1] and " 95.00 %" in lines[1] and "2.00 ± 1.50" in lines[1]
    assert lines[-1].startswith("  (100 test digits; 95 % intervals")
