"""The evaluation reports latencies with the same nearest-rank percentile as `/admin stats`."""

from __future__ import annotations

from bot.evaluation import _latency_rows


def test_latency_rows_use_nearest_rank() -> None:
    rows = dict(_latency_rows([4.0, 1.0, 3.0, 2.0]))
    assert rows["latence p50 (ms)"] == "2.00"  # rank ceil(0.5 * 4) = 2; the former rounding gave 3.00
    assert rows["latence p95 (ms)"] == "4.00"
    assert rows["latence max (ms)"] == "4.00"
    assert dict(_latency_rows([]))["latence p50 (ms)"] == "0.00"
