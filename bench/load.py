"""Load benchmark: the real bot process answering a burst of `/question` interactions through the Discord stand-in.

Runs `python -m bot run` against the Discord stand-in of tests/stand_in (127.0.0.1 only) with the per-user
rate limit raised, dispatches N interactions spread evenly over S seconds from U members of G
servers, and reports acknowledgement and answer latencies (from the gateway dispatch to the
request reaching the stand-in), questions per second, the bot's event-loop lag seen from
outside, its peak memory, and whether every question reached the SQLite log exactly once.

Event-loop lag is measured without touching the bot: the stand-in asks for a heartbeat
(gateway opcode 1) every 0.25 s and times the answer, which the bot sends from its event
loop; the idle round trip measured before the burst is subtracted. The drift of the bot's
own periodic heartbeats (1 s interval here) is shown as a cross-check.

`--sharded` runs the same burst twice and prints both side by side: one process on a SQLite file, then two
processes (shards 0,1 and 2,3 of four) logging into one PostgreSQL server the benchmark starts in a temporary
folder (as the storage tests do, tests/storage/pg_server.py). Loop lag is then not measured (a ping reaches
one process only); memory is given per process.

Run it from the repository root, as a module, so that the stand-in imports as a package:

    python -m bench.load                                  # seeds, 300 interactions over 10 s
    python -m bench.load --corpus ../shared/eval/orangesum/orangesum_all.jsonl.gz
    python -m bench.load --interactions 30 --seconds 3    # the small version the tests run
    python -m bench.load --sharded                        # one process on SQLite, then two on PostgreSQL
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gzip
import itertools
import json
import math
import random
import re
import shutil
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import asyncpg

from bot.storage.stats import percentile_nearest_rank
from tests.stand_in import (
    BotProcess,
    FakeDiscord,
    FakeGuild,
    FakeInteraction,
    FakeMember,
    read_db,
    snowflake_on_shard,
)
from tests.storage.pg_server import start_server

REPO_ROOT = Path(__file__).resolve().parents[1]

SEED_QUESTIONS = (
    "Qui est Su Junping ?",
    "Combien d'euros ont été dépensés sur internet en Chine en 2017 ?",
    "Qu'est-ce qu'un village Taobao ?",
    "Comment les agriculteurs de Guiyang vendent-ils leurs produits ?",
    "Que vend Lu Zhenhong ?",
    "Quel rôle joue le cloud pour les agriculteurs chinois ?",
    "Comment la Chine encourage-t-elle la coopération mondiale en commerce électronique ?",
    "Comment aider les marques nationales à se mondialiser ?",
    "Quelle est la recette de la tarte Tatin ?",
    "Qui a gagné la Coupe du monde de rugby ?",
    "Où se trouve la province du Zhejiang ?",
    "Combien de villageois Su Junping fait-il vivre ?",
)
UNANSWERABLE = (
    "Quelle est la recette de la tarte Tatin ?",
    "Comment réparer une chambre à air de vélo ?",
    "Quel temps fera-t-il demain à Brest ?",
)
APOLOGY_START = "Désolé, une erreur"
PING_INTERVAL = 0.25
PING_BUDGET = 100  # discord.py allows 110 gateway sends a minute; stay under it
BUTTONS_TIMEOUT = 15.0  # seconds for the last answers' vote buttons after the last answer
SHARD_COUNT = 4  # the servers are spread over this many shards; a single process runs them all
SHARDED = ((0, 1), (2, 3))  # the shards of each process in the sharded run


@dataclass
class LoadConfig:
    """What to run."""

    interactions: int = 300
    seconds: float = 10.0
    users: int = 60
    guilds: int = 4  # one or more on each of the SHARD_COUNT shards
    corpus: Path | None = None  # None: the bot's default (seeds/)
    seed: int = 7
    ready_timeout: float = 900.0
    answer_timeout: float = 180.0
    enforce_deadline: bool = False  # True: late acknowledgements are refused, as Discord does
    reindex: bool = False  # a moderator adds an article and runs /admin reindexer a third of the way through
    processes: tuple[tuple[int, ...], ...] = ()  # the shards (of SHARD_COUNT) each process runs; (): one, all
    database_url: str | None = None  # the PostgreSQL log the processes share; None: a SQLite file

    @property
    def label(self) -> str:
        """How the bot ran: its processes and its database."""
        database = "PostgreSQL" if self.database_url else "SQLite"
        if not self.processes:
            return f"1 process, {database}"
        shards = " + ".join(",".join(map(str, shards)) for shards in self.processes)
        return f"{len(self.processes)} processes (shards {shards} of {SHARD_COUNT}), {database}"


@dataclass
class LoadReport:
    """What happened."""

    config: LoadConfig
    corpus_label: str
    startup_s: float
    documents: str
    dispatched: int
    acked: int
    late_acks: int
    answered: int
    apologies: int
    ack_s: list[float]
    answer_s: list[float]
    duration_s: float
    ping_idle_s: list[float]
    ping_load_s: list[float]
    heartbeat_drift_s: list[float]
    rss_ready_kb: list[int | None]  # one per process
    rss_peak_kb: list[int | None]
    log_rows: int
    log_matches: bool
    exit_status: int | None
    reindex_s: float | None = None
    reindex_reply: str = ""
    notes: list[str] = field(default_factory=list)

    @property
    def questions_per_second(self) -> float:
        """Answers delivered per second, from the first dispatch to the last answer."""
        return self.answered / self.duration_s if self.duration_s > 0 else 0.0

    @property
    def loop_lag_s(self) -> list[float]:
        """Ping round trips under load minus the idle median (never negative)."""
        base = percentile(self.ping_idle_s, 50) if self.ping_idle_s else 0.0
        return [max(0.0, rtt - base) for rtt in self.ping_load_s]


def percentile(values: Sequence[float], pct: float) -> float:
    """The project's nearest-rank percentile of unsorted values, NaN for no values (shown as such in the table)."""
    return percentile_nearest_rank(sorted(values), pct) if values else math.nan


def orangesum_to_jsonl(source: Path, target: Path) -> tuple[int, list[str]]:
    """Convert OrangeSum (id, date, title, abstract, article) to the engine's JSONL; returns count and titles."""
    count, titles = 0, []
    with gzip.open(source, "rt", encoding="utf-8") as src, target.open("w", encoding="utf-8") as out:
        for line in src:
            if not line.strip():
                continue
            record = json.loads(line)
            text = "\n\n".join(part for part in (record.get("abstract"), record.get("article")) if part)
            doc = {
                "id": f"orangesum-{record['id']}",
                "title": record.get("title") or None,
                "text": text,
                "published": record.get("date") or None,
                "publisher": "OrangeSum",
            }
            out.write(json.dumps(doc, ensure_ascii=False) + "\n")
            count += 1
            if record.get("title"):
                titles.append(record["title"])
    return count, titles


def question_pool(titles: Sequence[str], rng: random.Random, size: int = 200) -> list[str]:
    """Questions for a big corpus: article headlines asked as questions, plus a few with no answer."""
    picked = rng.sample(list(titles), min(size, len(titles)))
    return [f"Que sait-on de ceci : {t.rstrip(' .?!')} ?" for t in picked] + list(UNANSWERABLE)


def add_article(corpus: Path) -> None:
    """Add one article to a corpus folder or JSON Lines file, as a moderator would before re-indexing."""
    text = "Un nouvel article ajouté au corpus pendant la mesure de charge, avant la réindexation."
    if corpus.is_dir():
        (corpus / "ajout-pendant-la-charge.txt").write_text(text + "\n", encoding="utf-8")
    else:
        with corpus.open("a", encoding="utf-8") as handle:
            handle.write(json.dumps({"id": "ajout-pendant-la-charge", "title": "Ajout", "text": text}) + "\n")


def build_world(fake: FakeDiscord, config: LoadConfig) -> list[tuple[FakeGuild, FakeMember]]:
    """G servers, spread over the shards, with U members spread over them, and one moderator each."""
    guilds = [
        fake.add_guild(
            f"Serveur {i + 1}", moderators=["modo"], guild_id=snowflake_on_shard(i % SHARD_COUNT, SHARD_COUNT)
        )
        for i in range(config.guilds)
    ]
    return [
        (guilds[i % config.guilds], fake.add_member(guilds[i % config.guilds], f"membre-{i + 1}"))
        for i in range(config.users)
    ]


def moderator_of(guild: FakeGuild) -> FakeMember:
    """The server's moderator (Manage Server)."""
    return guild.member("modo")


def _vm_hwm(pid: int) -> int | None:
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return None


async def _pinger(fake: FakeDiscord, samples: list[float], stop: asyncio.Event, budget: list[int]) -> None:
    while not stop.is_set() and budget[0] > 0:
        started = time.monotonic()
        with contextlib.suppress(ConnectionError, TimeoutError):
            budget[0] -= 1
            samples.append(await fake.ping())
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=max(0.0, PING_INTERVAL - (time.monotonic() - started)))


async def run_load(config: LoadConfig, workdir: Path) -> LoadReport:
    """Start the stand-in and the bot, run the burst, stop everything, and report."""
    rng = random.Random(config.seed)
    notes: list[str] = []
    corpus_env: dict[str, str] = {}
    questions = list(SEED_QUESTIONS)
    label = "seeds/ (5 articles)"
    if config.corpus is not None:
        corpus = config.corpus
        if corpus.name.endswith(".jsonl.gz") and "orangesum" in corpus.name.lower():
            converted = workdir / "orangesum.jsonl"
            count, titles = orangesum_to_jsonl(corpus, converted)
            questions = question_pool(titles, rng)
            corpus, label = converted, f"OrangeSum ({count} articles)"
        else:
            label = str(corpus)
    else:
        corpus = REPO_ROOT / "seeds"
    if config.reindex and not corpus.is_relative_to(workdir):  # work on a copy: an article is added to it
        copy = workdir / corpus.name
        corpus = Path(shutil.copytree(corpus, copy) if corpus.is_dir() else shutil.copy2(corpus, copy))
    if config.corpus is not None or config.reindex:
        corpus_env["BOT_CORPUS"] = str(corpus.resolve())

    fake = FakeDiscord(heartbeat_interval=1.0, ack_deadline=3.0 if config.enforce_deadline else 1e9)
    members = build_world(fake, config)
    await fake.start()
    database = workdir / "load.sqlite3"  # with PostgreSQL, only the folder of the saved index
    env = {"BOT_RATE_LIMIT": "1000", "BOT_RATE_WINDOW": "1", **corpus_env}  # the largest allowed: no limit in effect
    if config.database_url:
        env["BOT_DATABASE_URL"] = config.database_url
    count = str(SHARD_COUNT)
    bots = [
        BotProcess(fake, database=database, env=env, args=["--shards", ",".join(map(str, s)), "--shard-count", count])
        for s in config.processes
    ] or [BotProcess(fake, database=database, env=env)]
    inters: list[tuple[FakeInteraction, str]] = []
    ping_idle: list[float] = []
    ping_load: list[float] = []
    try:
        started = time.monotonic()
        await asyncio.gather(*(bot.start() for bot in bots))
        if config.processes:
            await asyncio.gather(
                *(
                    b.wait_ready(timeout=config.ready_timeout, shards=s)
                    for b, s in zip(bots, config.processes, strict=True)
                )
            )
        else:
            await bots[0].wait_ready(timeout=config.ready_timeout)
        startup = time.monotonic() - started
        rss_ready = [_vm_hwm(bot.pid) for bot in bots]
        found = (re.search(r"\d+ documents, \d+ passages", line) for line in bots[0].log_lines)
        documents = next((m.group(0) for m in found if m), "?")

        budget = [PING_BUDGET if len(bots) == 1 else 0]  # a ping reaches one process only: no loop lag then
        for _ in range(8 if budget[0] else 0):  # idle baseline
            ping_idle.append(await fake.ping())
            budget[0] -= 1
            await asyncio.sleep(PING_INTERVAL)
        heartbeats_before = len(fake.gateway.heartbeat_times())

        stop_ping = asyncio.Event()
        pinger = asyncio.create_task(_pinger(fake, ping_load, stop_ping, budget))
        reindex: FakeInteraction | None = None
        t0 = time.monotonic()
        step = config.seconds / max(1, config.interactions)
        for i in range(config.interactions):
            delay = t0 + i * step - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            guild, member = rng.choice(members)
            text = rng.choice(questions)
            inter = await fake.slash(guild, guild.channel("questions"), member, "question", texte=text)
            inters.append((inter, text))
            if config.reindex and reindex is None and i >= config.interactions // 3:
                first = fake.guilds[guild.id]
                add_article(corpus)  # a changed corpus: the index is really rebuilt, not reloaded
                reindex = await fake.slash(first, first.channel("général"), moderator_of(first), "admin reindexer")

        def finished() -> bool:
            done = all(i.messages() or i.late_callbacks for i, _ in inters)
            return done and (reindex is None or any("Corpus" in (m.get("content") or "") for m in reindex.messages()))

        try:
            await fake.wait_until(finished, timeout=config.answer_timeout, what="every answer")
        except TimeoutError:
            notes.append(f"not every answer arrived within {config.answer_timeout:.0f} s")
        try:  # the vote buttons come once the row is logged: stopping before would cut that edit short
            await fake.wait_until(
                lambda: all(any(m.get("components") for m in i.messages()) for i, _ in inters if i.messages()),
                timeout=BUTTONS_TIMEOUT,
                what="every answer's vote buttons",
            )
        except TimeoutError:
            notes.append(f"not every answer had its vote buttons within {BUTTONS_TIMEOUT:.0f} s")
        stop_ping.set()
        await pinger
        beats = fake.gateway.heartbeat_times()[heartbeats_before:]
        drift = [max(0.0, b - a - fake.heartbeat_interval) for a, b in itertools.pairwise(beats)]
        rss_peak = [_vm_hwm(bot.pid) for bot in bots]
    finally:
        statuses = [await bot.stop() for bot in bots]
        exit_status = next((status for status in statuses if status != 0), 0)  # the first failure, if any
        await fake.close()

    acked = [i for i, _ in inters if i.acked]
    answered = [i for i, _ in inters if i.answered_at() is not None]
    apologies = sum(1 for i, _ in inters for m in i.messages() if APOLOGY_START in (m.get("content") or ""))
    reindex_s, reindex_reply = None, ""
    if reindex is not None:
        replies = [(t, m) for t, m in reindex.followups if m.get("content")]
        if replies:
            reindex_s, reindex_reply = replies[-1][0] - reindex.dispatched_at, replies[-1][1]["content"]
    last_answer = max((i.answered_at() or 0.0) for i in answered) if answered else t0
    sent = Counter((i.user_id, text) for i, text in inters)
    rows = await logged_questions(database, config.database_url)
    logged = Counter(rows)
    notes += [f"the bot logged a traceback: {error}" for bot in bots if (error := first_traceback(bot.log_lines))]
    return LoadReport(
        config=config,
        corpus_label=label,
        startup_s=startup,
        documents=documents,
        dispatched=len(inters),
        acked=len(acked),
        late_acks=sum(1 for i in acked if (i.ack_delay or 0) > 3.0) + sum(1 for i, _ in inters if i.late_callbacks),
        answered=len(answered),
        apologies=apologies,
        ack_s=[i.ack_delay for i in acked if i.ack_delay is not None],
        answer_s=[(i.answered_at() or 0.0) - i.dispatched_at for i in answered],
        duration_s=last_answer - t0,
        ping_idle_s=ping_idle,
        ping_load_s=ping_load,
        heartbeat_drift_s=drift,
        rss_ready_kb=rss_ready,
        rss_peak_kb=rss_peak,
        log_rows=len(rows),
        log_matches=logged == sent,
        exit_status=exit_status,
        reindex_s=reindex_s,
        reindex_reply=reindex_reply,
        notes=notes,
    )


def first_traceback(lines: Sequence[str]) -> str | None:
    """The log line announcing the bot's first traceback and the exception that ended it, None without one."""
    for i, line in enumerate(lines):
        if line.startswith("Traceback"):
            raised = next((later for later in lines[i + 1 :] if later and not later.startswith(" ")), "?")
            return f"{lines[i - 1][-100:] if i else ''} — {raised[:100]}"
    return None


async def logged_questions(database: Path, url: str | None) -> list[tuple[int, str]]:
    """(user, question) of every `/question` row in the log, read from the SQLite file or the PostgreSQL server."""
    sql = "SELECT user_id, question FROM queries WHERE origin = 'slash'"
    if url is None:
        return [(r["user_id"], r["question"]) for r in read_db(database, sql)]
    conn = await asyncpg.connect(url)
    try:
        return [(r["user_id"], r["question"]) for r in await conn.fetch(sql)]
    finally:
        await conn.close()


async def run_sharded_comparison(config: LoadConfig, workdir: Path) -> list[LoadReport]:
    """The same burst on one process with SQLite, then on two processes of two shards each with PostgreSQL."""
    for name in ("sqlite", "postgresql"):
        (workdir / name).mkdir()
    single = await run_load(replace(config, processes=(), database_url=None), workdir / "sqlite")
    server = await asyncio.to_thread(start_server)
    try:
        sharded = await run_load(replace(config, processes=SHARDED, database_url=server.url()), workdir / "postgresql")
    finally:
        await asyncio.to_thread(server.stop)
    return [single, sharded]


def _ms(values: Sequence[float]) -> str:
    if not values:
        return "—"
    return " / ".join(f"{percentile(values, p) * 1000:.0f}" for p in (50, 95, 99)) + f" (max {max(values) * 1000:.0f})"


def report_rows(report: LoadReport) -> list[tuple[str, str]]:
    """The report's lines: (what, figure)."""
    c = report.config
    mib = lambda kb: "—" if kb is None else f"{kb / 1024:.0f} MiB"  # noqa: E731
    rows = [
        ("bot", c.label),
        ("corpus", f"{report.corpus_label} — {report.documents}"),
        ("load", f"{c.interactions} /question over {c.seconds:g} s, {c.users} members, {c.guilds} servers"),
        ("bot start-up (process → ready)", f"{report.startup_s:.1f} s"),
        ("acknowledged", f"{report.acked}/{report.dispatched} (after 3 s: {report.late_acks})"),
        ("answered", f"{report.answered}/{report.dispatched} (apologies: {report.apologies})"),
        ("ack latency p50/p95/p99 ms", _ms(report.ack_s)),
        ("answer latency p50/p95/p99 ms", _ms(report.answer_s)),
        (
            "questions per second",
            f"{report.questions_per_second:.1f} (last answer {report.duration_s:.1f} s after the first dispatch)",
        ),
        ("loop lag p50/p95/p99 ms (ping)", _ms(report.loop_lag_s) + f", {len(report.ping_load_s)} samples"),
        ("idle ping p50 ms", f"{percentile(report.ping_idle_s, 50) * 1000:.1f}"),
        (
            "heartbeat drift p50/p95/p99 ms",
            _ms(report.heartbeat_drift_s) + f", {len(report.heartbeat_drift_s)} samples",
        ),
        (
            "peak memory (VmHWM) ready / end",
            ", ".join(f"{mib(a)} / {mib(b)}" for a, b in zip(report.rss_ready_kb, report.rss_peak_kb, strict=True)),
        ),
        ("log rows (slash)", f"{report.log_rows} — {'each question once' if report.log_matches else 'MISMATCH'}"),
        ("bot exit status", str(report.exit_status)),
    ]
    if c.reindex:
        took = "—" if report.reindex_s is None else f"{report.reindex_s:.1f} s"
        rows.insert(6, ("/admin reindexer during the burst", f"{took}: {report.reindex_reply[:70]}"))
    return rows + [("note", n) for n in report.notes]


def format_report(report: LoadReport) -> str:
    """The report as a two-column table."""
    return _table([[k, v] for k, v in report_rows(report)])


COMPARED = (
    "bot",
    "acknowledged",
    "answered",
    "questions per second",
    "ack latency p50/p95/p99 ms",
    "answer latency p50/p95/p99 ms",
    "log rows (slash)",
    "peak memory (VmHWM) ready / end",
    "bot start-up (process → ready)",
    "bot exit status",
)


def format_comparison(reports: Sequence[LoadReport]) -> str:
    """Several runs of the same burst, one column each (the corpus and the load once, above)."""
    first = dict(report_rows(reports[0]))
    figures = [dict(report_rows(report)) for report in reports]
    lines = [[what] + [f[what] for f in figures] for what in COMPARED]
    notes = [f"note ({r.config.label})  {n}" for r in reports for n in r.notes]
    return "\n".join([f"corpus  {first['corpus']}", f"load    {first['load']}", _table(lines), *notes])


def _table(lines: Sequence[Sequence[str]]) -> str:
    widths = [max(len(line[i]) for line in lines) for i in range(len(lines[0]))]
    return "\n".join("  ".join(cell.ljust(w) for cell, w in zip(line, widths, strict=True)).rstrip() for line in lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Command line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--interactions", type=int, default=300)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--users", type=int, default=60)
    parser.add_argument("--guilds", type=int, default=4)
    parser.add_argument("--corpus", type=Path, default=None, help="corpus folder, .jsonl, or OrangeSum .jsonl.gz")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--reindex", action="store_true", help="run /admin reindexer a third of the way through")
    parser.add_argument(
        "--sharded", action="store_true", help="one process on SQLite, then two (2 shards of 4 each) on PostgreSQL"
    )
    args = parser.parse_args(argv)
    config = LoadConfig(
        args.interactions, args.seconds, args.users, args.guilds, args.corpus, args.seed, reindex=args.reindex
    )
    with tempfile.TemporaryDirectory(prefix="bench-load-") as tmp:
        if args.sharded:
            reports = asyncio.run(run_sharded_comparison(config, Path(tmp)))
            print(format_comparison(reports))
        else:
            reports = [asyncio.run(run_load(config, Path(tmp)))]
            print(format_report(reports[0]))
    ok = all(r.answered == r.dispatched and r.log_matches and not r.late_acks for r in reports)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
