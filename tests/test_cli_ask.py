"""The command line: `ask` (text, --json, stdin), bad questions and corpora, and `eval` on the dev questions."""

from __future__ import annotations

import asyncio
import io
import json
import os
import re
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from bot.cli import BOLD, PLAIN, main
from bot.search.corpus import make_document
from bot.search.engine import EngineOptions
from bot.storage import Storage
from tests.conftest import DEV_QA, REPO, SEEDS

SOURCE_KEYS = {"doc_id", "file", "title", "publisher", "published", "url", "score", "passage"}
ANSWER_KEYS = {"question", "found", "answer", "confidence", "latency_ms", "sources"}


@pytest.fixture(autouse=True)
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Run every command from an empty folder, with no BOT_* settings and the log in tmp_path."""
    for name in list(os.environ):
        if name.startswith("BOT_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("BOT_DATABASE", str(tmp_path / "env-log.sqlite3"))
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _ask(tmp_path: Path, *args: str) -> list[str]:
    return ["ask", *args, "--corpus", str(SEEDS), "--database", str(tmp_path / "log.sqlite3")]


def _logged(path: Path) -> list[str]:
    with sqlite3.connect(path) as db:
        return [row[0] for row in db.execute("SELECT question FROM queries ORDER BY rowid")]


def test_ask_prints_answer_and_source(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status = main(_ask(tmp_path, "Qui est le vice-président de Pinduoduo ?"))
    out, err = capsys.readouterr()
    assert status == 0
    assert "Chen Qiu" in out
    assert "Source : Article du Quotidien du Peuple en ligne, 5 août 2020" in out
    assert "http://french.peopledaily.com.cn/Economie/n3/2020/0805/c31355-9718612.html#:~:text=" in out
    assert "(réponse sûre : " in out
    assert err == ""
    assert _logged(tmp_path / "log.sqlite3") == ["Qui est le vice-président de Pinduoduo ?"]


def test_ask_unanswerable_says_so_in_french(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(_ask(tmp_path, "Comment soigner un rhume rapidement ?")) == 0
    out = capsys.readouterr().out
    assert "Je n'ai pas trouvé de réponse à cette question dans le corpus." in out


def test_ask_json_prints_one_object(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    question = "De combien le trafic d'AliExpress a-t-il augmenté en Italie ?"
    assert main(_ask(tmp_path, "--json", question)) == 0
    out = capsys.readouterr().out
    lines = out.strip().splitlines()
    assert len(lines) == 1
    data = json.loads(lines[0])
    assert set(data) >= ANSWER_KEYS
    assert data["question"] == question
    assert data["found"] is True
    assert "14%" in data["answer"] and "Source : " in data["answer"]
    assert data["quotes"][0]["doc_id"] == data["sources"][0]["doc_id"]
    assert all(sentence in data["answer"] for quote in data["quotes"] for sentence in quote["sentences"])
    assert 0.0 <= data["confidence"] <= 1.0
    assert isinstance(data["latency_ms"], (int, float)) and data["latency_ms"] >= 0
    assert 1 <= len(data["sources"]) <= 5
    for source in data["sources"]:
        assert set(source) >= SOURCE_KEYS
    first = data["sources"][0]
    assert first["file"] == "001_24d661fd2205696a.txt"
    assert first["doc_id"] == "001_24d661fd2205696a"
    assert first["publisher"] == "Le Quotidien du Peuple en ligne"
    assert first["published"] == "2020-08-05"
    assert first["url"] == "http://french.peopledaily.com.cn/Economie/n3/2020/0805/c31355-9718612.html"
    assert first["title"] is None
    assert isinstance(first["score"], float) and first["passage"]


def test_ask_json_not_found(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(_ask(tmp_path, "--json", "le la les ?")) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["found"] is False and data["confidence"] == 0.0
    assert data["answer"] == "Je n'ai pas trouvé de réponse à cette question dans le corpus."


def test_ask_json_reads_questions_from_stdin(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    questions = [
        "Qui est le vice-président de Pinduoduo ?",
        "",
        "THEIERES EN ARGENT",
        "Quel temps fera-t-il demain à Paris ?",
    ]
    monkeypatch.setattr(sys, "stdin", io.StringIO("\n".join(questions) + "\n"))
    assert main(_ask(tmp_path, "--json", "-")) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    objects = [json.loads(line) for line in lines]
    assert [o["question"] for o in objects] == [q for q in questions if q]
    assert [o["found"] for o in objects] == [True, True, False]
    assert "Chen Qiu" in objects[0]["answer"]
    assert _logged(tmp_path / "log.sqlite3") == [q for q in questions if q]


def test_stdin_with_a_blank_question_goes_on_and_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO("???\nQui est le vice-président de Pinduoduo ?\n"))
    assert main(_ask(tmp_path, "--json", "-")) == 2
    out, err = capsys.readouterr()
    assert len(out.strip().splitlines()) == 1 and "Chen Qiu" in out
    assert "La question est vide" in err


@pytest.mark.parametrize("question", ["", "   ", "\t"])
def test_empty_question_exits_2_with_a_french_message(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], question: str
) -> None:
    assert main(_ask(tmp_path, question)) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert "La question est vide" in err and "écrivez une question en français" in err
    assert not (tmp_path / "log.sqlite3").exists() or _logged(tmp_path / "log.sqlite3") == []


def test_ask_on_a_jsonl_corpus(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    corpus = tmp_path / "docs.jsonl"
    records = [
        {
            "id": "velo",
            "title": "Le vélo à Lyon",
            "text": "Lyon compte 4 000 vélos en libre-service depuis 2005.",
            "url": "https://exemple.fr/velo",
            "published": "2021-03-04",
        },
        {"id": "tofu", "text": "Le village de Libei vend du tofu de riz dans tout le pays."},
    ]
    corpus.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in records), encoding="utf-8")
    args = ["ask", "--json", "Combien de vélos en libre-service à Lyon ?", "--corpus", str(corpus), "--no-log"]
    assert main(args) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["found"] is True and "4 000 vélos" in data["answer"]
    first = data["sources"][0]
    assert (first["doc_id"], first["file"], first["title"]) == ("velo", None, "Le vélo à Lyon")
    assert first["published"] == "2021-03-04" and first["url"] == "https://exemple.fr/velo"
    assert "« Le vélo à Lyon », 4 mars 2021" in data["answer"]
    assert not (tmp_path / "env-log.sqlite3").exists()  # --no-log: nothing written


def test_broken_corpus_exits_2_naming_the_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    corpus = tmp_path / "casse.jsonl"
    corpus.write_text('{"id": "a", "text": "Un texte."}\n{"id": "b", "text": \n', encoding="utf-8")
    assert main(["ask", "Qui ?", "--corpus", str(corpus), "--no-log"]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert "casse.jsonl" in err and "ligne 2" in err and "Erreur de corpus" in err


def test_missing_corpus_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["ask", "Qui ?", "--corpus", str(tmp_path / "absent"), "--no-log"]) == 2
    assert "absent" in capsys.readouterr().err


def test_eval_on_dev_questions(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["eval", str(DEV_QA), "--corpus", str(SEEDS)]) == 0
    out = capsys.readouterr().out
    rows = dict(line.rsplit(None, 1) for line in out.splitlines()[1:] if line.strip())
    assert rows["bonne première source"] == rows["clé dans la première phrase"] == "18/18"
    assert rows["sans réponse refusées"] == "2/2"
    assert "latence p50 (ms)" in out
    assert "Échecs" not in out


def test_max_chars_option(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = _ask(tmp_path, "--json", "Qui est le vice-président de Pinduoduo ?", "--max-chars", "200")
    assert main(args) == 0
    data = json.loads(capsys.readouterr().out)
    quoted = data["answer"].split("\n\nSource : ")[0].replace("\n", " ")
    assert len(quoted) <= 200


def test_real_subprocess_with_default_corpus(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BOT_")}
    env["BOT_DATABASE"] = str(tmp_path / "sub.sqlite3")
    env["PYTHONPATH"] = str(REPO) + os.pathsep + env.get("PYTHONPATH", "")
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "bot",
            "ask",
            "--json",
            "Qui est le vice-président de Pinduoduo ?",
            "--database",
            str(tmp_path / "sub.sqlite3"),
        ],
        cwd=REPO,  # the default corpus is seeds/ of the current folder
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["found"] is True and "Chen Qiu" in data["answer"]
    assert data["sources"][0]["file"] == "001_24d661fd2205696a.txt"
    assert _logged(tmp_path / "sub.sqlite3") == ["Qui est le vice-président de Pinduoduo ?"]

    empty = subprocess.run(
        [sys.executable, "-m", "bot", "ask", "  ", "--no-log"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert empty.returncode == 2
    assert "La question est vide" in empty.stderr


def test_ask_strips_terminal_escapes_that_come_from_the_corpus(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "corpus"
    folder.mkdir()
    text = "Les théières en argent \x1b[2J\x1b[31mdu Yunnan\x1b[0m se vendent\x07 en ligne \x9b1m sur Taobao."
    (folder / "a.txt").write_text(text, encoding="utf-8")
    (folder / "sources.toml").write_text(
        '[[document]]\nfile = "a.txt"\ntitle = "Théières \\u001b]0;titre volé\\u0007du Yunnan"\n', encoding="utf-8"
    )
    status = main(["ask", "Où se vendent les théières du Yunnan ?", "--corpus", str(folder), "--no-log"])
    out = capsys.readouterr().out
    assert status == 0 and "Taobao" in out and "Théières du Yunnan" in out
    assert not any(ch in out for ch in "\x1b\x07\x9b")
    assert main(["ask", "Où se vendent les théières du Yunnan ?", "--corpus", str(folder), "--no-log", "--json"]) == 0
    assert "\x1b[31m" in json.loads(capsys.readouterr().out)["answer"]  # JSON keeps the text as it is, escaped


def test_the_terminal_shows_the_answer_in_bold_as_discord_does_and_plain_when_piped(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    question = "De combien le trafic d'AliExpress a-t-il augmenté en Italie ?"
    assert main(_ask(tmp_path, question, "--no-log", "--json")) == 0
    bold = json.loads(capsys.readouterr().out)["highlight"]
    assert "14%" in bold
    assert main(_ask(tmp_path, question, "--no-log")) == 0
    piped = capsys.readouterr().out
    assert "\x1b" not in piped and "14%" in piped
    monkeypatch.setattr(sys.stdout, "isatty", lambda: True)
    assert main(_ask(tmp_path, question, "--no-log")) == 0
    terminal = capsys.readouterr().out
    assert f"{BOLD}{bold}{PLAIN}" in terminal
    assert terminal.replace(BOLD, "").replace(PLAIN, "") == piped  # nothing else differs


def test_the_confidence_is_a_percentage_written_the_french_way(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(_ask(tmp_path, "Qui est le vice-président de Pinduoduo ?", "--no-log")) == 0
    line = capsys.readouterr().out.strip().splitlines()[-1]
    assert re.fullmatch(r"\(réponse (sûre|probable|incertaine) : \d{1,3}\u00a0%\)", line), line


def test_small_talk_gets_the_introduction_in_text_and_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(_ask(tmp_path, "Bonjour !", "--no-log")) == 0
    text = capsys.readouterr().out
    assert text.startswith("Bonjour ! Je réponds à vos questions") and "réponse incertaine" not in text
    assert main(_ask(tmp_path, "Bonjour !", "--no-log", "--json")) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["intent"] == "smalltalk" and data["answer"] == text.rstrip("\n")


def test_a_question_over_the_engines_limit_is_refused_as_discord_refuses_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    limit = EngineOptions().max_question_chars
    too_long = "Qui dirige Alibaba ? " * (limit // 20)
    assert main(_ask(tmp_path, too_long.strip(), "--no-log")) == 2
    out, err = capsys.readouterr()
    assert out == "" and f"La question est trop longue ({len(too_long.strip())} caractères, {limit} au plus)" in err


@pytest.mark.parametrize(
    "locale_env",
    [{"LC_ALL": "C"}, {"LC_ALL": "C", "PYTHONUTF8": "0", "PYTHONCOERCECLOCALE": "0"}],
    ids=["c-locale", "c-locale-ascii"],
)
def test_stdin_with_invalid_utf8_answers_every_line_in_valid_utf8(tmp_path: Path, locale_env: dict[str, str]) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BOT_", "LC_", "LANG", "PYTHONUTF8", "PYTHONIO"))}
    env.update(locale_env, PYTHONPATH=str(REPO))
    stdin = (
        "Qui est le vice-président de Pinduoduo ?\n".encode() + b"Qui \xff\xfe est ?\n" + "Où est Libei ?\n".encode()
    )
    result = subprocess.run(
        [sys.executable, "-m", "bot", "ask", "--json", "-", "--corpus", str(SEEDS), "--no-log"],
        cwd=tmp_path,
        env=env,
        input=stdin,
        capture_output=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr.decode("utf-8", "replace")
    lines = result.stdout.decode("utf-8").splitlines()  # strict: the output is valid UTF-8
    answers = [json.loads(line) for line in lines]
    assert [a["question"] for a in answers] == [
        "Qui est le vice-président de Pinduoduo ?",
        "Qui \ufffd\ufffd est ?",
        "Où est Libei ?",
    ]
    assert "Chen Qiu" in answers[0]["answer"] and "é" in answers[0]["answer"]


MEMBER_QUESTIONS = Path(__file__).resolve().parent / "data" / "member_questions.jsonl"


def test_member_questions_keep_their_measured_floor(capsys: pytest.CaptureFixture[str]) -> None:
    """50 questions as members type them on the seeds (answerable, on-topic but unanswerable, small talk):
    the figures measured when the set was written may improve, never fall."""
    main(["eval", str(MEMBER_QUESTIONS), "--corpus", str(SEEDS)])
    rows = dict(line.rsplit(None, 1) for line in capsys.readouterr().out.splitlines()[1:9] if line.strip())

    def count(name: str) -> int:
        return int(rows[name].split("/")[0])

    assert count("bonne première source") >= 27
    assert count("clé dans la première phrase") >= 24
    assert count("sans réponse refusées") >= 3
    assert rows["politesses reconnues"] == "8/8"


def test_ask_as_a_server_reads_its_documents(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`--server ID` answers from the shared corpus and that server's own documents, and no other server's."""
    question = "Combien d'exposants au marché aux plantes de Montbrison ?"
    text = (
        "Marché aux plantes de Montbrison\n\nLa Fédération des jardiniers de Montbrison organise son marché aux "
        "plantes le 14 mai 2026 sur la place Bouvier. Plus de quarante exposants y vendront des semis."
    )

    async def add() -> None:
        async with await Storage.open(tmp_path / "log.sqlite3") as storage:
            document = make_document("jardins", text, guess=True)
            assert document is not None
            await storage.add_documents(111, [document], 50, "fichier:jardins.txt")

    asyncio.run(add())
    assert main([*_ask(tmp_path, question, "--json", "--no-log"), "--server", "111"]) == 0
    answer = json.loads(capsys.readouterr().out)
    assert answer["found"] and answer["sources"][0]["doc_id"] == "jardins"
    assert "Montbrison" in answer["answer"]
    assert main([*_ask(tmp_path, question, "--json", "--no-log"), "--server", "222"]) == 0
    elsewhere = json.loads(capsys.readouterr().out)
    assert all(source["doc_id"] != "jardins" for source in elsewhere["sources"])
    assert _logged(tmp_path / "log.sqlite3") == []  # --no-log still holds


def test_eval_of_a_missing_or_foreign_file_says_so_in_french(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    assert main(["eval", str(tmp_path / "absent.json")]) == 2
    assert "le jeu de questions" in capsys.readouterr().err
    notes = tmp_path / "notes.jsonl"
    notes.write_text("pas du JSON\n", encoding="utf-8")
    assert main(["eval", str(notes)]) == 2
    assert "ni un jeu SQuAD" in capsys.readouterr().err


def test_a_reader_that_stops_early_gets_no_traceback() -> None:
    """`python -m bot eval … | head -1`: the pipe closes under the printing, and the command stops quietly."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("BOT_")}
    env["PYTHONPATH"] = str(REPO) + os.pathsep + env.get("PYTHONPATH", "")
    command = [sys.executable, "-m", "bot", "eval", str(DEV_QA)]
    process = subprocess.Popen(command, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert process.stdout is not None and process.stderr is not None
    process.stdout.close()  # the reader is gone before the report is printed
    stderr = process.stderr.read().decode()
    assert process.wait(timeout=120) != 0
    assert "Traceback" not in stderr and "BrokenPipeError" not in stderr


def test_after_reads_a_follow_up_with_the_questions_before(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    italy = "De combien le trafic d'AliExpress a-t-il augmenté en Italie ?"
    args = _ask(tmp_path, "--json", "--no-log", "--after", "Qui est Chen Qiu ?", "--after", italy, "Et en Espagne ?")
    assert main(args) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["question"] == "Et en Espagne ?"
    assert data["understood_as"] == italy.replace("Italie", "Espagne")
    assert data["answer"].startswith(f"Compris comme : {data['understood_as']}\n")
    assert main(_ask(tmp_path, "--no-log", "--after", italy, "Et en Espagne ?")) == 0
    assert capsys.readouterr().out.startswith(
        "Compris comme : De combien le trafic d'AliExpress a-t-il augmenté en Espagne ?"
    )
    assert main(_ask(tmp_path, "--json", "--no-log", "Et en Espagne ?")) == 0
    assert json.loads(capsys.readouterr().out)["understood_as"] is None


def test_eval_on_follow_up_questions(capsys: pytest.CaptureFixture[str]) -> None:
    main(["eval", str(DEV_QA.parent / "followups.jsonl"), "--corpus", str(SEEDS)])
    out = capsys.readouterr().out
    rows = dict(line.rsplit(None, 1) for line in out.split("\n\n")[0].splitlines()[1:] if line.strip())
    assert rows["complètes réécrites à tort"] == "0/12"
    assert rows["questions de suite"] == "32"
    assert int(rows["clé dans la première phrase"].split("/")[0]) >= 29  # 90 % of the follow-ups
