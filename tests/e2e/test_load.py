"""A small run of the load benchmark (bench/load.py): every question acknowledged, answered, logged once.

No timing is asserted here: the stand-in refuses acknowledgements later than 3 s as Discord
does, so "acknowledged" already means "in time"; the latency figures are for the benchmark.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench" / "load.py"


def load_bench() -> ModuleType:
    """Import bench/load.py (the bench folder is not a package)."""
    spec = importlib.util.spec_from_file_location("bench_load", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@pytest.mark.asyncio(loop_scope="function")
async def test_burst_of_questions_all_acknowledged_answered_and_logged_once(tmp_path: Path) -> None:
    bench = load_bench()
    config = bench.LoadConfig(interactions=30, seconds=3.0, users=12, guilds=3, enforce_deadline=True)
    report = await bench.run_load(config, tmp_path)
    print(bench.format_report(report))
    assert report.dispatched == 30
    assert report.acked == 30 and report.late_acks == 0
    assert report.answered == 30 and report.apologies == 0
    assert report.log_rows == 30 and report.log_matches, "every question in the log exactly once"
    assert report.exit_status == 0
    assert report.ping_load_s, "the bot answered heartbeat requests during the burst"
