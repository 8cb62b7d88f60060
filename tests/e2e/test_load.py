"""A small run of the load benchmark (bench.load): every question acknowledged, answered, logged once.

No timing is asserted here: the stand-in refuses acknowledgements later than 3 s as Discord
does, so "acknowledged" already means "in time"; the latency figures are for the benchmark.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from bench.load import SHARDED, LoadConfig, format_comparison, format_report, run_load
from tests.storage.pg_server import start_server_for_tests


@pytest.mark.asyncio(loop_scope="function")
async def test_burst_of_questions_all_acknowledged_answered_and_logged_once(tmp_path: Path) -> None:
    config = LoadConfig(interactions=30, seconds=3.0, users=12, guilds=3, enforce_deadline=True)
    report = await run_load(config, tmp_path)
    print(format_report(report))
    assert report.dispatched == 30
    assert report.acked == 30 and report.late_acks == 0
    assert report.answered == 30 and report.apologies == 0
    assert report.log_rows == 30 and report.log_matches, "every question in the log exactly once"
    assert report.exit_status == 0
    assert report.ping_load_s, "the bot answered heartbeat requests during the burst"


@pytest.mark.asyncio(loop_scope="function")
async def test_the_same_burst_on_two_sharded_processes_sharing_postgresql(tmp_path: Path) -> None:
    server = start_server_for_tests()
    try:
        config = LoadConfig(interactions=24, seconds=2.0, users=12, guilds=4, enforce_deadline=True)
        report = await run_load(replace(config, processes=SHARDED, database_url=server.url()), tmp_path)
    finally:
        server.stop()
    print(format_comparison([report]))
    assert report.acked == 24 and report.late_acks == 0
    assert report.answered == 24 and report.apologies == 0
    assert report.log_rows == 24 and report.log_matches, "every question in the shared log exactly once"
    assert len(report.rss_peak_kb) == 2 and all(report.rss_peak_kb), "the memory of each process"
    assert report.exit_status == 0
