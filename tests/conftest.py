"""Shared fixtures: paths of the repository's corpora and one seed engine built per test session."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from bot.search.engine import Engine

REPO = Path(__file__).resolve().parents[1]
SEEDS = REPO / "seeds"
DEV_QA = Path(__file__).resolve().parent / "data" / "dev_qa.jsonl"
PIAF = REPO.parent / "shared" / "eval" / "piaf" / "piaf-v1.1-dev.json"
PIAF_SAMPLE = Path(__file__).resolve().parent / "data" / "piaf-sample.json"  # every 6th article of PIAF


def dev_questions() -> list[dict[str, Any]]:
    """The project's dev questions (a copy of ../shared/eval/dev_qa.jsonl)."""
    with DEV_QA.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


@pytest.fixture(scope="session")
def seed_engine() -> Engine:
    """The engine over seeds/, built once: it is read-only, so tests can share it."""
    return Engine.from_path(SEEDS)
