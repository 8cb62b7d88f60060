"""Settings loading: defaults, the TOML file, environment overrides and French error messages."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.cli import build_parser, main
from bot.config import ENV_VARIABLES, SETTINGS, ConfigError, Setting, Settings, load_settings

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "MTIzNDU2Nzg5MDEyMzQ1Njc4.GaBcDe.secret-token-value_0123456789"


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "bot.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_without_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # no config/bot.toml here: the default file may be missing
    settings = load_settings(env={})
    assert settings == Settings()
    assert settings.corpus_path == Path("seeds")
    assert settings.database_path == Path("data/bot.sqlite3")
    assert (settings.rate_limit_count, settings.rate_limit_seconds) == (5, 60.0)
    assert settings.max_answer_chars == 600
    assert settings.min_confidence is None
    assert settings.retention_days == 0
    assert settings.log_level == "INFO"
    assert settings.discord_token is None and settings.dev_guild_id is None
    assert settings.api_base is None and settings.gateway_url is None


def test_committed_file_matches_defaults() -> None:
    assert load_settings(ROOT / "config" / "bot.toml", env={}) == Settings()


def test_default_file_is_read_from_current_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "bot.toml").write_text("[retention]\ndays = 30\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    assert load_settings(env={}).retention_days == 30


def test_toml_values(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
[corpus]
path = "corpus/articles.jsonl"
[database]
path = "/var/lib/bot/log.sqlite3"
[answers]
max_chars = 900
min_confidence = 0.35
[rate_limit]
count = 3
window_seconds = 30.5
[retention]
days = 90
[logging]
level = "debug"
""",
    )
    settings = load_settings(path, env={})
    assert settings.corpus_path == Path("corpus/articles.jsonl")
    assert settings.database_path == Path("/var/lib/bot/log.sqlite3")
    assert settings.max_answer_chars == 900
    assert settings.min_confidence == 0.35
    assert settings.rate_limit_count == 3
    assert settings.rate_limit_seconds == 30.5
    assert settings.retention_days == 90
    assert settings.log_level == "DEBUG"


def test_env_overrides_file(tmp_path: Path) -> None:
    path = write(tmp_path, "[rate_limit]\ncount = 3\n[retention]\ndays = 90\n")
    env = {
        "BOT_CORPUS": "autre",
        "BOT_DATABASE": "x/y.sqlite3",
        "BOT_RATE_LIMIT": "8",
        "BOT_RATE_WINDOW": "120",
        "BOT_MAX_ANSWER_CHARS": "400",
        "BOT_MIN_CONFIDENCE": "0,4",  # French decimal comma accepted
        "BOT_RETENTION_DAYS": "0",
        "BOT_LOG_LEVEL": "warning",
        "DISCORD_TOKEN": TOKEN,
        "DISCORD_DEV_GUILD_ID": "123456789012345678",
        "DISCORD_API_BASE": "http://127.0.0.1:8080/api/v10/",
        "DISCORD_GATEWAY_URL": "ws://127.0.0.1:8081",
    }
    settings = load_settings(path, env=env)
    assert settings.corpus_path == Path("autre")
    assert settings.database_path == Path("x/y.sqlite3")
    assert settings.rate_limit_count == 8
    assert settings.rate_limit_seconds == 120.0
    assert settings.max_answer_chars == 400
    assert settings.min_confidence == pytest.approx(0.4)
    assert settings.retention_days == 0  # env 0 wins over the file's 90
    assert settings.log_level == "WARNING"
    assert settings.discord_token == TOKEN
    assert settings.dev_guild_id == 123456789012345678
    assert settings.api_base == "http://127.0.0.1:8080/api/v10"
    assert settings.gateway_url == "ws://127.0.0.1:8081"


def test_empty_env_values_count_as_unset(tmp_path: Path) -> None:
    path = write(tmp_path, "[rate_limit]\ncount = 3\n")
    env = {name: "" for name in ENV_VARIABLES} | {"BOT_RATE_LIMIT": "  "}
    settings = load_settings(path, env=env)
    assert settings.rate_limit_count == 3
    assert settings.discord_token is None and settings.dev_guild_id is None


def test_bot_config_env_selects_file(tmp_path: Path) -> None:
    path = write(tmp_path, '[logging]\nlevel = "ERROR"\n')
    assert load_settings(env={"BOT_CONFIG": str(path)}).log_level == "ERROR"


def test_explicit_missing_file_is_an_error(tmp_path: Path) -> None:
    missing = tmp_path / "absent.toml"
    with pytest.raises(ConfigError, match="introuvable") as info:
        load_settings(missing, env={})
    assert str(missing) in str(info.value)
    with pytest.raises(ConfigError, match="introuvable"):
        load_settings(env={"BOT_CONFIG": str(missing)})


@pytest.mark.parametrize(
    ("toml", "key", "reason"),
    [
        ("[rate_limit]\ncount = -3", "rate_limit.count", "entier compris entre 1 et 1000 (reçu : -3)"),
        ("[rate_limit]\ncount = 0", "rate_limit.count", "entier compris entre 1 et 1000"),
        ("[rate_limit]\ncount = 2.5", "rate_limit.count", "entier compris entre 1 et 1000"),
        ("[rate_limit]\ncount = true", "rate_limit.count", "entier compris entre 1 et 1000 (reçu : true)"),
        ('[rate_limit]\ncount = "cinq"', "rate_limit.count", "entier compris entre 1 et 1000"),
        ("[rate_limit]\ncount = 9223372036854775807", "rate_limit.count", "entre 1 et 1000"),
        ("[rate_limit]\nwindow_seconds = 0", "rate_limit.window_seconds", "entre 1 et 86400"),
        ("[rate_limit]\nwindow_seconds = 1e300", "rate_limit.window_seconds", "entre 1 et 86400"),
        ('[rate_limit]\nwindow_seconds = "x"', "rate_limit.window_seconds", "nombre"),
        ("[answers]\nmax_chars = 10", "answers.max_chars", "entre 50 et 4000"),
        ("[answers]\nmax_chars = 5000", "answers.max_chars", "entre 50 et 4000"),
        ("[answers]\nmin_confidence = 1.5", "answers.min_confidence", "entre 0 et 1"),
        ("[answers]\nmin_confidence = nan", "answers.min_confidence", "nombre fini"),
        ("[retention]\ndays = -1", "retention.days", "entier compris entre 0 et 36500"),
        ("[retention]\ndays = 9223372036854775807", "retention.days", "entier compris entre 0 et 36500"),
        ('[logging]\nlevel = "BAVARD"', "logging.level", "DEBUG"),
        ('[corpus]\npath = ""', "corpus.path", "chemin non vide"),
        ("[database]\npath = 3", "database.path", "chemin non vide"),
    ],
)
def test_invalid_toml_value_names_key(tmp_path: Path, toml: str, key: str, reason: str) -> None:
    path = write(tmp_path, toml + "\n")
    with pytest.raises(ConfigError) as info:
        load_settings(path, env={})
    message = str(info.value)
    assert f"« {key} »" in message
    assert reason in message
    assert str(path) in message


@pytest.mark.parametrize(
    ("name", "value", "reason"),
    [
        ("BOT_RATE_LIMIT", "abc", "entier compris entre 1 et 1000"),
        ("BOT_RATE_LIMIT", "-2", "entier compris entre 1 et 1000"),
        ("BOT_RATE_LIMIT", str(2**63), "entier compris entre 1 et 1000"),
        ("BOT_RATE_WINDOW", "-5", "entre 1 et 86400"),
        ("BOT_RATE_WINDOW", "86401", "entre 1 et 86400"),
        ("BOT_MAX_ANSWER_CHARS", "12", "entre 50 et 4000"),
        ("BOT_MIN_CONFIDENCE", "haute", "nombre"),
        ("BOT_MIN_CONFIDENCE", "-0.1", "entre 0 et 1"),
        ("BOT_RETENTION_DAYS", "1.5", "entier compris entre 0 et 36500"),
        ("BOT_RETENTION_DAYS", str(2**63), "entier compris entre 0 et 36500"),
        ("BOT_RETENTION_DAYS", "36501", "entier compris entre 0 et 36500"),
        ("BOT_LOG_LEVEL", "verbose", "DEBUG"),
        ("DISCORD_DEV_GUILD_ID", "mon-serveur", "entier positif"),
        ("DISCORD_DEV_GUILD_ID", str(2**64), "identifiant Discord"),
        ("DISCORD_API_BASE", "discord.example", "http://"),
        ("DISCORD_GATEWAY_URL", "http://127.0.0.1:8081", "ws://"),
    ],
)
def test_invalid_env_value_names_variable(
    name: str, value: str, reason: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError) as info:
        load_settings(env={name: value})
    message = str(info.value)
    assert f"« {name} »" in message
    assert reason in message


def test_all_errors_reported_together(tmp_path: Path) -> None:
    path = write(tmp_path, "[rate_limit]\ncount = 0\n[retention]\ndays = -4\n")
    with pytest.raises(ConfigError) as info:
        load_settings(path, env={"BOT_LOG_LEVEL": "bavard"})
    assert len(info.value.errors) == 3
    assert isinstance(info.value, ValueError)


@pytest.mark.parametrize(
    ("toml", "key"),
    [
        ("[rate_limit]\ncuont = 5", "rate_limit.cuont"),
        ("[ratelimit]\ncount = 5", "ratelimit.count"),
        ('langue = "fr"', "langue"),
    ],
)
def test_unknown_key_reported(tmp_path: Path, toml: str, key: str) -> None:
    path = write(tmp_path, toml + "\n")
    with pytest.raises(ConfigError, match="clé inconnue") as info:
        load_settings(path, env={})
    assert f"« {key} »" in str(info.value)


def test_token_in_toml_is_refused_and_not_echoed(tmp_path: Path) -> None:
    path = write(tmp_path, f'[discord]\ntoken = "{TOKEN}"\n')
    with pytest.raises(ConfigError, match="DISCORD_TOKEN") as info:
        load_settings(path, env={})
    assert TOKEN not in str(info.value)


def test_invalid_toml_syntax(tmp_path: Path) -> None:
    path = write(tmp_path, "[rate_limit\ncount = 5\n")
    with pytest.raises(ConfigError, match="TOML invalide") as info:
        load_settings(path, env={})
    assert str(path) in str(info.value)


def test_token_never_in_repr_or_errors(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    settings = load_settings(None, env={"DISCORD_TOKEN": TOKEN, "BOT_CONFIG": ""})
    assert settings.discord_token == TOKEN
    assert TOKEN not in repr(settings)
    assert TOKEN not in str(settings)
    assert "discord_token" not in repr(settings)
    # A malformed token is refused without echoing it.
    bad = "abc def-" + TOKEN
    with pytest.raises(ConfigError, match="DISCORD_TOKEN") as info:
        load_settings(None, env={"DISCORD_TOKEN": bad})
    assert TOKEN not in str(info.value)


def test_settings_are_frozen() -> None:
    settings = Settings()
    with pytest.raises(AttributeError):
        settings.rate_limit_count = 10  # type: ignore[misc]


def test_every_toml_key_is_in_committed_file_with_its_variable() -> None:
    text = (ROOT / "config" / "bot.toml").read_text(encoding="utf-8")
    for setting in SETTINGS:
        if setting.toml is None:
            continue
        section, name = setting.toml.split(".")
        assert f"[{section}]" in text
        assert f"{name} =" in text  # min_confidence appears commented out
        assert setting.env in text, setting.env


def test_every_variable_is_in_the_env_example() -> None:
    text = (ROOT / ".env.example").read_text(encoding="utf-8")
    assert [name for name in ENV_VARIABLES if f"{name}=" not in text] == []


def test_the_table_names_each_key_variable_and_option_once() -> None:
    for column in ("toml", "env", "option"):
        names = [getattr(setting, column) for setting in SETTINGS if getattr(setting, column)]
        assert len(names) == len(set(names)), column
    assert all(setting.description.strip() for setting in SETTINGS)
    assert {setting.attribute for setting in SETTINGS if setting.secret} == {"discord_token", "database_url"}
    assert next(setting for setting in SETTINGS if setting.attribute == "discord_token").toml is None
    shown = repr(Settings(discord_token=TOKEN, database_url="postgresql://bot:mot-de-passe@db/bot"))
    assert TOKEN not in shown and "mot-de-passe" not in shown


def test_bounds_themselves_are_accepted(tmp_path: Path) -> None:
    path = write(tmp_path, "[rate_limit]\ncount = 1000\nwindow_seconds = 86400\n[retention]\ndays = 36500\n")
    settings = load_settings(path, env={"BOT_RATE_WINDOW": "1", "DISCORD_DEV_GUILD_ID": str(2**63 - 1)})
    assert (settings.rate_limit_count, settings.rate_limit_seconds, settings.retention_days) == (1000, 1.0, 36500)
    assert settings.dev_guild_id == 2**63 - 1


def test_database_url_selects_postgresql_and_its_password_is_never_shown(tmp_path: Path) -> None:
    url = "postgresql://bot:mot-de-passe@db.example:5432/bot"
    settings = load_settings(write(tmp_path, f'[database]\nurl = "{url}"\n'), env={})
    assert settings.database_url == url and settings.database_path == Path("data/bot.sqlite3")
    assert "mot-de-passe" not in repr(settings)
    assert load_settings(write(tmp_path, ""), env={"BOT_DATABASE_URL": url}).database_url == url
    assert load_settings(write(tmp_path, ""), env={}).database_url is None  # SQLite stays the default
    bad = "mysql://bot:mot-de-passe@db/bot"
    for config, env in ((f'[database]\nurl = "{bad}"\n', {}), ("", {"BOT_DATABASE_URL": bad})):
        with pytest.raises(ConfigError) as refused:
            load_settings(write(tmp_path, config), env=env)
        assert "doit être une adresse PostgreSQL lisible" in str(refused.value)
        assert "mot-de-passe" not in str(refused.value)
    with pytest.raises(ConfigError, match="port") as refused:  # read by the storage's parser: a bad port is named
        load_settings(write(tmp_path, ""), env={"BOT_DATABASE_URL": "postgresql://bot:mot#de/passe@db:54x2/bot"})
    assert "mot" not in str(refused.value) and "passe" not in str(refused.value)


# One value each setting refuses, as text: the same text is refused from the file (as a TOML string), from the
# environment and from the command line, with the same reason. An empty variable counts as unset, so a setting
# whose only bad text is empty is not tried from the environment.
BAD_VALUES = {
    "corpus_path": "",
    "corpus_text_field": "x" * 65,
    "corpus_title_field": " ",
    "database_path": "",
    "database_url": "mysql://bot:mot-de-passe@db/bot",
    "max_answer_chars": "5",
    "min_confidence": "1,5",
    "semantic": "parfois",
    "semantic_threads": "0",
    "reader": "peut-être",
    "rate_limit_count": "0",
    "rate_limit_seconds": "0.5",
    "retention_days": "-1",
    "log_level": "bavard",
    "discord_token": "abc def",
    "dev_guild_id": "0",
    "api_base": "ftp://proxy.example",
    "gateway_url": "http://127.0.0.1:8081",
    "documents_max_file_bytes": "30",
    "documents_max_count": "0",
    "documents_max_text_bytes": "0,5",
    "documents_fetch_timeout": "120",
    "documents_parse_seconds": "0,5",
    "documents_allow_private_addresses": "peut-être",
    "shard_ids": "0,x",
    "shard_count": "1001",
}


def test_every_setting_has_a_bad_value_to_try() -> None:
    assert set(BAD_VALUES) == {setting.attribute for setting in SETTINGS}


@pytest.mark.parametrize("setting", SETTINGS, ids=lambda setting: setting.attribute)
def test_a_bad_value_is_refused_wherever_it_is_given(
    setting: Setting, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    bad = BAD_VALUES[setting.attribute]
    refusals: list[tuple[str, dict]] = []
    if setting.toml is not None:
        section, key = setting.toml.split(".")
        path = write(tmp_path, f"[{section}]\n{key} = {json.dumps(bad)}\n")
        refusals.append((f"{path} : « {setting.toml} » ", {"config_file": path, "env": {}}))
    if bad.strip():
        refusals.append((f"environnement : « {setting.env} » ", {"env": {setting.env: bad}}))
    if setting.option is not None:
        refusals.append((f"option {setting.option} : ", {"env": {}, "options": {setting.option: bad}}))
    reasons = set()
    for where, arguments in refusals:
        with pytest.raises(ConfigError) as refused:
            load_settings(**arguments)
        (error,) = refused.value.errors
        assert error.startswith(where), error
        reasons.add(error.removeprefix(where))
        assert (bad.strip() not in error) if setting.secret else ("reçu : " in error)
    assert len(reasons) == 1, reasons  # the same reason wherever it was given


def test_cli_options_are_checked_like_the_settings(tmp_path: Path) -> None:
    env = {name: value for name, value in os.environ.items() if not name.startswith(("BOT_", "DISCORD_"))}
    question = "Qui est le vice-président de Pinduoduo ?"
    done = subprocess.run(
        [sys.executable, "-m", "bot", "ask", "--max-chars", "5", question, "--no-log"],
        cwd=tmp_path,
        env=env | {"PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=120,
    )
    assert done.returncode == 2
    assert done.stdout == ""
    assert "Configuration invalide" in done.stderr and "Traceback" not in done.stderr
    assert "option --max-chars : doit être un entier compris entre 50 et 4000 (reçu : '5')" in done.stderr


def _options_of_each_command() -> list[tuple[str, str]]:
    """(command, option) for every option of `python -m bot` that overrides a setting."""
    (commands,) = (action for action in build_parser()._actions if isinstance(action, argparse._SubParsersAction))
    attributes = {setting.attribute for setting in SETTINGS}
    return [
        (command, action.option_strings[0])
        for command, parser in commands.choices.items()
        for action in parser._actions
        if action.dest in attributes
    ]


REQUIRED_ARGUMENTS = {"ask": ["Qui ?"], "eval": ["questions.jsonl"], "migrate-log": ["--to", "postgresql://h/b"]}


@pytest.mark.parametrize(("command", "option"), _options_of_each_command())
def test_each_command_refuses_a_bad_option_before_doing_anything(
    command: str, option: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)  # no .env nor config/bot.toml here
    for name in ENV_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    setting = next(setting for setting in SETTINGS if setting.option == option)
    bad = BAD_VALUES[setting.attribute]
    assert main([command, *REQUIRED_ARGUMENTS.get(command, []), option, bad]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.startswith("Configuration invalide :\n") and f"option {option} : doit " in err
    assert list(tmp_path.iterdir()) == []  # nothing written: no log, no index


def test_options_win_over_the_environment_and_the_file(tmp_path: Path) -> None:
    path = write(tmp_path, "[answers]\nmax_chars = 900\n[corpus]\ntext_field = 'article'\n")
    settings = load_settings(path, env={"BOT_MAX_ANSWER_CHARS": "700"}, options={"--max-chars": "300"})
    assert (settings.max_answer_chars, settings.corpus_text_field, settings.corpus_title_field) == (
        300,
        "article",
        "title",
    )
    args = build_parser().parse_args(["ask", "Qui ?", "--config", str(path), "--corpus", "autre", "--max-chars", "80"])
    assert (args.corpus_path, args.max_answer_chars) == ("autre", "80")  # read as text, checked by the table


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"a = " + b"[" * 100_000, "imbriqués trop profondément"),
        (b"[answers]\nmax_chars = 600\n# \xe9t\xe9\n", "fichier non UTF-8 (octet invalide à la ligne 3)"),
        (b"[answers]\nmax_chars = " + b"9" * 5000 + b"\n", "un nombre est trop long"),
        (b"[answers\nmax_chars = 600\n", "fichier TOML invalide, ligne 1, colonne 9"),
    ],
    ids=["nested", "latin-1", "long-number", "syntax"],
)
def test_an_unreadable_file_is_an_invalid_configuration_without_traceback(
    content: bytes, reason: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "bot.toml"
    path.write_bytes(content)
    with pytest.raises(ConfigError) as refused:
        load_settings(path, env={})
    assert refused.value.errors == [f"{path} : {refused.value.errors[0].removeprefix(f'{path} : ')}"]
    assert reason in str(refused.value)
    assert main(["ask", "Qui ?", "--config", str(path), "--no-log"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("Configuration invalide :\n") and str(path) in err and reason in err


def test_a_file_saved_with_a_byte_order_mark_is_read(tmp_path: Path) -> None:
    path = tmp_path / "bot.toml"
    path.write_bytes("[retention]\ndays = 30\n".encode("utf-8-sig"))
    assert load_settings(path, env={}).retention_days == 30


def test_a_folder_given_as_the_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="n'est pas un fichier"):
        load_settings(env={"BOT_CONFIG": str(tmp_path)})


@pytest.mark.parametrize(
    ("config", "env"),
    [
        (f"token = {TOKEN}\n", {}),  # a token pasted unquoted: a syntax error on its line
        (f"DISCORD_TOKEN={TOKEN}\n", {}),  # the .env line pasted into the TOML file
        (f'[answers]\nmax_chars = "{TOKEN}"\n', {}),
        ("", {"DISCORD_DEV_GUILD_ID": TOKEN}),  # the token in the line below the right one
        ("", {"DISCORD_TOKEN": "mot-de-passe-du-bot", "BOT_LOG_LEVEL": "mot-de-passe-du-bot"}),
        ("", {"BOT_RATE_WINDOW": "postgresql://bot:mot-de-passe-du-bot@db/bot"}),
    ],
)
def test_no_error_shows_a_secret(config: str, env: dict[str, str], tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as refused:
        load_settings(write(tmp_path, config), env=env)
    (error,) = refused.value.errors
    assert error.startswith((str(tmp_path), "environnement"))
    for secret in (TOKEN, TOKEN[:20], "mot-de-passe-du-bot"):
        assert secret not in error


@pytest.mark.parametrize(
    "address",
    [
        "ftp://moi:motdepasse@proxy.example/api",
        "ftp://moi:mot/de@passe@proxy.example/api",
        "ftp://proxy.example/api?user=moi&Password=mot/de@passe",
    ],
)
def test_credentials_in_a_refused_address_are_hidden(
    address: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError) as refused:
        load_settings(env={"DISCORD_API_BASE": address})
    message = str(refused.value)
    assert "proxy.example/api" in message and "« DISCORD_API_BASE »" in message
    assert "mot" not in message and "passe" not in message
