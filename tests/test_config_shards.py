"""Shard settings: the TOML file, the environment and `run` options, and their French error messages."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.cli import main
from bot.config import ConfigError, load_settings


def toml(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "bot.toml"
    path.write_text(text, encoding="utf-8")
    return path


def errors_of(tmp_path: Path, text: str = "", env: dict[str, str] | None = None, **options: str) -> list[str]:
    with pytest.raises(ConfigError) as refused:
        load_settings(
            toml(tmp_path, text), env=env or {}, options={f"--{k.replace('_', '-')}": v for k, v in options.items()}
        )
    return refused.value.errors


def test_no_shard_setting_means_every_shard_of_the_recommended_count(tmp_path: Path) -> None:
    settings = load_settings(toml(tmp_path, ""), env={})
    assert (settings.shard_ids, settings.shard_count, settings.shards) == (None, None, None)


def test_shards_from_the_file_the_environment_and_the_options_in_that_order(tmp_path: Path) -> None:
    path = toml(tmp_path, "[discord]\nshards = [0, 1]\nshard_count = 4\n")
    settings = load_settings(path, env={})
    assert (settings.shard_ids, settings.shard_count, settings.shards) == ((0, 1), 4, (0, 1))

    env = {"BOT_SHARDS": " 2, 3 ", "BOT_SHARD_COUNT": "4"}
    assert load_settings(path, env=env).shard_ids == (2, 3)
    chosen = load_settings(path, env=env, options={"--shards": "3", "--shard-count": None})
    assert (chosen.shard_ids, chosen.shard_count) == ((3,), 4)


def test_a_count_alone_runs_every_shard_of_it_here(tmp_path: Path) -> None:
    settings = load_settings(toml(tmp_path, ""), env={"BOT_SHARD_COUNT": "3"})
    assert settings.shard_ids is None and settings.shards == (0, 1, 2)


@pytest.mark.parametrize(
    ("text", "env", "options", "expected"),
    [
        (
            "",
            {"BOT_SHARDS": "0,4", "BOT_SHARD_COUNT": "4"},
            {},
            "le shard 4 n'existe pas avec 4 shard(s) (numéros de 0 à 3)",
        ),
        ("", {"BOT_SHARDS": "1"}, {}, "demande aussi leur nombre total"),
        ("", {}, {"shards": "0,x", "shard_count": "2"}, "option --shards : doit être une liste de numéros de shards"),
        ("", {}, {"shards": "1,1", "shard_count": "2"}, "nomme plusieurs fois le shard 1"),
        ("", {}, {"shards": "-1", "shard_count": "2"}, "doit être une liste de numéros de shards"),
        ("", {}, {"shard_count": "0"}, "option --shard-count : doit être un entier compris entre 1 et 1000"),
        ("", {"BOT_SHARD_COUNT": "1001"}, {}, "« BOT_SHARD_COUNT » doit être un entier compris entre 1 et 1000"),
        ("[discord]\nshards = []\nshard_count = 2\n", {}, {}, "« discord.shards » doit être une liste"),
        ("[discord]\nshards = [true]\nshard_count = 2\n", {}, {}, "« discord.shards » doit être une liste"),
        ("[discord]\nshards = 1\nshard_count = 2\n", {}, {}, "« discord.shards » doit être une liste"),
    ],
)
def test_bad_shard_settings_are_refused_in_french(
    tmp_path: Path, text: str, env: dict[str, str], options: dict[str, str], expected: str
) -> None:
    errors = errors_of(tmp_path, text, env, **options)
    assert len(errors) == 1 and expected in errors[0], errors


def test_the_token_is_still_refused_in_the_discord_section(tmp_path: Path) -> None:
    (error,) = errors_of(tmp_path, "[discord]\nshard_count = 2\ntoken = 'abc'\n")
    assert "discord.token" in error and "DISCORD_TOKEN" in error


def test_run_with_a_shard_outside_the_count_exits_2_before_connecting(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)  # no .env nor config/bot.toml here
    for variable in ("BOT_SHARDS", "BOT_SHARD_COUNT", "BOT_CONFIG"):
        monkeypatch.delenv(variable, raising=False)
    assert main(["run", "--shards", "0,4", "--shard-count", "4"]) == 2
    err = capsys.readouterr().err
    assert "Configuration invalide" in err and "le shard 4 n'existe pas avec 4 shard(s)" in err
