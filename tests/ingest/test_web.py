"""Fetching a page into a Document, against a real HTTP server on 127.0.0.1, and every refusal.

A test that must reach the server with the public-address check on treats 127.0.0.1 (only) as public, so the
check itself still judges every other hop. No test leaves this machine.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from ipaddress import IPv4Address, IPv6Address, ip_address
from pathlib import Path
from typing import ClassVar

import pytest
import pytest_asyncio
from aiohttp import web

from bot.ingest import web as fetcher
from bot.ingest.errors import IngestError
from bot.ingest.limits import DocumentLimits
from bot.ingest.web import fetch_document, is_public_address

DATA = Path(__file__).resolve().parents[1] / "data" / "ingest"
LIMITS = DocumentLimits(max_file_bytes=200_000, fetch_timeout=2.0)
CHUNK = b"x" * 65536


@dataclass
class Site:
    """The local server: its base address and how often each path was requested."""

    base: str
    port: int
    hits: Counter[str] = field(default_factory=Counter)
    hosts: list[str] = field(default_factory=list)  # the Host header of each request
    streamed: list[int] = field(default_factory=list)  # bytes of /endless sent before the client left


@pytest_asyncio.fixture
async def site() -> AsyncIterator[Site]:
    state = Site("", 0)

    async def article(request: web.Request) -> web.Response:
        return web.Response(body=(DATA / "article.html").read_bytes(), content_type="text/html", charset="utf-8")

    async def latin1(request: web.Request) -> web.Response:
        text = "<html><body><article><p>Les élèves déjeunent à la cantine à midi et quart, sauf le mercredi, "
        text += "quand le centre de loisirs prend le relais dès onze heures trente.</p></article></body></html>"
        return web.Response(body=text.encode("latin-1"), headers={"Content-Type": "text/html; charset=ISO-8859-1"})

    async def pdf(request: web.Request) -> web.Response:
        return web.Response(body=(DATA / "rapport.pdf").read_bytes(), content_type="application/pdf")

    async def text(request: web.Request) -> web.Response:
        return web.Response(body=(DATA / "horaires.txt").read_bytes(), content_type="text/plain", charset="utf-8")

    async def image(request: web.Request) -> web.Response:
        return web.Response(body=b"\x89PNG\r\n\x1a\n" + bytes(100), content_type="image/png")

    async def empty(request: web.Request) -> web.Response:
        return web.Response(body=(DATA / "empty.html").read_bytes(), content_type="text/html")

    async def missing(request: web.Request) -> web.Response:
        return web.Response(status=404, text="Introuvable")

    async def redirect(request: web.Request) -> web.Response:
        hops = int(request.match_info["hops"])
        target = "/article" if hops == 0 else f"/redirect/{hops - 1}"
        raise web.HTTPFound(target)

    async def to(request: web.Request) -> web.Response:
        return web.Response(status=302, headers={"Location": request.query["target"]})

    async def declared_large(request: web.Request) -> web.Response:
        return web.Response(body=bytes(LIMITS.max_file_bytes + 1), content_type="text/plain")

    async def endless(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "text/plain"})
        await response.prepare(request)
        sent = 0
        try:
            while sent < 100 * 1024 * 1024:
                await response.write(CHUNK)
                sent += len(CHUNK)
        except (ConnectionError, RuntimeError):
            pass
        finally:
            state.streamed.append(sent)
        return response

    async def slow(request: web.Request) -> web.Response:
        await asyncio.sleep(30)
        return web.Response(text="trop tard")

    async def trickle(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "text/plain"})
        await response.prepare(request)
        for _ in range(300):
            await response.write(b"Un mot. ")
            await asyncio.sleep(0.1)
        return response

    routes = {
        "/article": article,
        "/latin1": latin1,
        "/rapport.pdf": pdf,
        "/horaires": text,
        "/image": image,
        "/vide": empty,
        "/manquante": missing,
        "/redirect/{hops}": redirect,
        "/to": to,
        "/declared-large": declared_large,
        "/endless": endless,
        "/slow": slow,
        "/trickle": trickle,
    }

    @web.middleware
    async def count(request: web.Request, handler):  # type: ignore[no-untyped-def]
        state.hits[request.path] += 1
        state.hosts.append(request.host)
        return await handler(request)

    app = web.Application(middlewares=[count])
    for path, handler in routes.items():
        app.router.add_get(path, handler)
    runner = web.AppRunner(app, shutdown_timeout=0.5)
    await runner.setup()
    tcp = web.TCPSite(runner, "127.0.0.1", 0)
    await tcp.start()
    state.port = tcp._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    state.base = f"http://127.0.0.1:{state.port}"
    yield state
    await runner.cleanup()


@pytest.fixture
def loopback_is_public(monkeypatch: pytest.MonkeyPatch) -> None:
    """Let the check pass 127.0.0.1 and nothing else it would refuse, to test what comes after the first hop."""
    original = is_public_address

    def patched(address: IPv4Address | IPv6Address) -> bool:
        return address == IPv4Address("127.0.0.1") or original(address)

    monkeypatch.setattr(fetcher, "is_public_address", patched)


async def fetch(url: str, limits: DocumentLimits = LIMITS, allow: bool = True):  # type: ignore[no-untyped-def]
    return await fetch_document(url, limits, allow_private_addresses=allow)


async def refused(url: str, limits: DocumentLimits = LIMITS, allow: bool = True) -> str:
    with pytest.raises(IngestError) as info:
        await fetch(url, limits, allow)
    return str(info.value)


# --- pages that become documents ----------------------------------------------------------


async def test_html_page_keeps_the_address_it_was_fetched_from(site: Site) -> None:
    document = await fetch(f"{site.base}/article#commentaires")
    assert document.title == "La médiathèque de Villeneuve ouvre le dimanche"
    assert document.published == "2024-02-12"
    assert document.publisher == "Le Courrier du Val"
    assert "35 000 euros" in document.text and "parking" not in document.text
    # The page claims https://courrier-du-val.example/…; the document links where it really came from.
    assert document.url == f"{site.base}/article"
    assert document.doc_id == "127-0-0-1-article"
    assert document.file is None


async def test_declared_charset_is_honoured(site: Site) -> None:
    document = await fetch(f"{site.base}/latin1")
    assert "Les élèves déjeunent à la cantine" in document.text
    assert document.publisher == f"127.0.0.1:{site.port}"  # no site name in the page: trafilatura names the host


async def test_pdf_and_plain_text(site: Site) -> None:
    pdf = await fetch(f"{site.base}/rapport.pdf")
    assert pdf.title == "Rapport annuel 2023 des bibliothèques" and "184 000 visiteurs" in pdf.text
    text = await fetch(f"{site.base}/horaires")
    assert text.title == "Horaires de la piscine municipale" and text.url == f"{site.base}/horaires"


async def test_three_redirects_are_followed(site: Site) -> None:
    document = await fetch(f"{site.base}/redirect/2")  # /redirect/2 -> /1 -> /0 -> /article
    assert document.url == f"{site.base}/article"
    assert site.hits["/article"] == 1


async def test_a_fourth_redirect_is_not_followed(site: Site) -> None:
    message = await refused(f"{site.base}/redirect/3")
    assert "plus de 3 redirections" in message
    assert site.hits["/article"] == 0


# --- refusals of the content --------------------------------------------------------------


async def test_unsupported_content_type(site: Site) -> None:
    message = await refused(f"{site.base}/image")
    assert "« image/png », non pris en charge" in message and message.startswith(f"{site.base}/image")


async def test_page_without_article(site: Site) -> None:
    assert "aucun texte d'article" in await refused(f"{site.base}/vide")


async def test_http_error_status(site: Site) -> None:
    assert "le site a répondu par l'erreur 404" in await refused(f"{site.base}/manquante")


async def test_declared_length_over_the_cap(site: Site) -> None:
    assert "la page dépasse la limite de 0,2 Mo" in await refused(f"{site.base}/declared-large")


async def test_streamed_body_over_the_cap_stops_the_download(site: Site) -> None:
    assert "la page dépasse la limite" in await refused(f"{site.base}/endless")
    for _ in range(50):  # the handler notices the closed connection on its next write
        if site.streamed:
            break
        await asyncio.sleep(0.05)
    assert site.streamed and site.streamed[0] < 100 * 1024 * 1024


async def test_slow_response_times_out(site: Site) -> None:
    limits = DocumentLimits(max_file_bytes=LIMITS.max_file_bytes, fetch_timeout=0.5)
    started = asyncio.get_running_loop().time()
    message = await refused(f"{site.base}/slow", limits)
    assert "le site n'a pas répondu en 0,5 s" in message
    assert asyncio.get_running_loop().time() - started < 5


async def test_trickling_response_times_out(site: Site) -> None:
    limits = DocumentLimits(max_file_bytes=LIMITS.max_file_bytes, fetch_timeout=0.5)
    assert "n'a pas répondu en 0,5 s" in await refused(f"{site.base}/trickle", limits)


async def test_unreachable_port() -> None:
    assert "le site est injoignable" in await refused("http://127.0.0.1:9/")


# --- refused addresses --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("ftp://127.0.0.1/fichier.txt", "seules les adresses http:// et https://"),
        ("file:///etc/passwd", "seules les adresses http:// et https://"),
        ("javascript:alert(1)", "seules les adresses http:// et https://"),
        ("http:///chemin", "pas de nom de site"),
        ("https://moi:secret@exemple.org/", "identifiant ou mot de passe"),
        ("http://127.1/", "adresse IP mal formée"),
        ("http://2130706433/", "adresse IP mal formée"),
    ],
)
async def test_malformed_or_non_http_addresses(url: str, expected: str) -> None:
    assert expected in await refused(url, allow=True)


async def test_loopback_refused_without_the_setting(site: Site) -> None:
    message = await refused(f"{site.base}/article", allow=False)
    assert "réseau privé ou local" in message
    assert site.hits["/article"] == 0


async def test_name_resolving_to_loopback_refused_without_the_setting(site: Site) -> None:
    message = await refused(f"http://localhost:{site.port}/article", allow=False)
    assert "le site « localhost » est sur un réseau privé ou local" in message
    assert site.hits["/article"] == 0


class FakeDNS:
    """Stands in for the system resolver: fixed answers for a few names, as a DNS server would give them."""

    answers: ClassVar[dict[str, list[str]]] = {}

    async def resolve(self, host: str, port: int = 0, family: object = None) -> list[dict[str, object]]:
        return [
            {"hostname": host, "host": address, "port": port, "family": 0, "proto": 0, "flags": 0}
            for address in self.answers[host]
        ]

    async def close(self) -> None:
        pass


@pytest.fixture
def fake_dns(monkeypatch: pytest.MonkeyPatch) -> type[FakeDNS]:
    monkeypatch.setattr(FakeDNS, "answers", {})
    monkeypatch.setattr(fetcher.aiohttp, "ThreadedResolver", FakeDNS)
    return FakeDNS


@pytest.mark.usefixtures("loopback_is_public")
async def test_connection_goes_to_the_checked_answer(site: Site, fake_dns: type[FakeDNS]) -> None:
    # No system lookup knows this name: reaching the page proves the connection used the checked answer.
    fake_dns.answers["journal.test"] = ["127.0.0.1"]
    document = await fetch(f"http://journal.test:{site.port}/article", allow=False)
    assert document.url == f"http://journal.test:{site.port}/article"
    assert site.hosts == [f"journal.test:{site.port}"]  # the page is asked for by its name


@pytest.mark.usefixtures("loopback_is_public")
async def test_one_private_answer_refuses_the_name(site: Site, fake_dns: type[FakeDNS]) -> None:
    fake_dns.answers["double.test"] = ["127.0.0.1", "10.0.0.7"]
    message = await refused(f"http://double.test:{site.port}/article", allow=False)
    assert "le site « double.test » est sur un réseau privé ou local" in message
    assert site.hits["/article"] == 0


@pytest.mark.usefixtures("loopback_is_public")
async def test_public_first_hop_is_fetched(site: Site) -> None:
    document = await fetch(f"{site.base}/redirect/0", allow=False)
    assert document.url == f"{site.base}/article"


@pytest.mark.usefixtures("loopback_is_public")
@pytest.mark.parametrize(
    "target",
    [
        "http://10.0.0.1/",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]/",
        "http://[::ffff:192.168.1.1]/",
        "http://127.0.0.2:{port}/article",
        "http://0x7f.0.0.2:{port}/article",  # a name the system resolves to 127.0.0.2 (no DNS needed)
    ],
)
async def test_redirect_to_a_private_address_is_not_followed(site: Site, target: str) -> None:
    target = target.format(port=site.port)
    message = await refused(f"{site.base}/to?target={target}", allow=False)
    assert "réseau privé ou local" in message
    assert site.hits["/to"] == 1 and site.hits["/article"] == 0


@pytest.mark.usefixtures("loopback_is_public")
@pytest.mark.parametrize(
    ("target", "expected"),
    [("file:///etc/passwd", "seules les adresses http:// et https://"), ("http://[zz]/", "adresse invalide")],
)
async def test_redirect_to_a_bad_address_is_not_followed(site: Site, target: str, expected: str) -> None:
    assert expected in await refused(f"{site.base}/to?target={target}", allow=False)


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1", "127.255.255.254", "10.1.2.3", "172.16.0.1", "172.31.255.255", "192.168.0.1",
        "169.254.169.254", "100.64.0.1", "100.100.100.200", "0.0.0.0", "0.1.2.3", "224.0.0.1", "239.1.1.1",
        "240.0.0.1", "255.255.255.255", "192.0.2.10", "198.18.0.1",
        "::", "::1", "fc00::1", "fd00:ec2::254", "fe80::1", "ff02::1", "::ffff:127.0.0.1", "::ffff:10.0.0.1",
        "2002:7f00:1::1", "64:ff9b::a00:1", "2001:db8::1",
    ],
)  # fmt: skip
def test_private_and_special_addresses_are_not_public(address: str) -> None:
    assert not is_public_address(ip_address(address))


@pytest.mark.parametrize(
    "address", ["93.184.215.14", "1.1.1.1", "172.32.0.1", "2606:4700:4700::1111", "::ffff:1.1.1.1", "64:ff9b::101:101"]
)
def test_public_addresses_are_public(address: str) -> None:
    assert is_public_address(ip_address(address))


# Every IPv6 form that carries an IPv4 address is judged by that address (Teredo: by its server and its client).
# Teredo 2001:0:SSSS:SSSS:flags:port:CCCC:CCCC holds the server's IPv4 as is and the client's inverted.
EMBEDDED_FORMS = [
    ("::10.0.0.1", False),  # compatible, private
    ("::a9fe:a9fe", False),  # compatible, cloud metadata 169.254.169.254
    ("::7f00:1", False),  # compatible, loopback
    ("::8.8.8.8", True),  # compatible, public
    ("::ffff:10.0.0.1", False),  # mapped, private
    ("::ffff:0:7f00:1", False),  # translated, loopback
    ("::ffff:0:a9fe:a9fe", False),  # translated, cloud metadata
    ("::ffff:0:808:808", True),  # translated, public
    ("2002:a9fe:a9fe::1", False),  # 6to4, cloud metadata
    ("2002:c0a8:101::1", False),  # 6to4, 192.168.1.1
    ("2002:808:808::1", True),  # 6to4, public
    ("2001:0:4136:e378:8000:63bf:f7f7:f7f7", True),  # Teredo: server 65.54.227.120, client 8.8.8.8
    ("2001:0:4136:e378:8000:63bf:f5ff:fffe", False),  # Teredo: client 10.0.0.1
    ("2001:0:4136:e378:8000:63bf:80ff:fffe", False),  # Teredo: client 127.0.0.1
    ("2001:0:a00:1:8000:63bf:f7f7:f7f7", False),  # Teredo: server 10.0.0.1
    ("64:ff9b::a9fe:a9fe", False),  # NAT64, cloud metadata
    ("64:ff9b::7f00:1", False),  # NAT64, loopback
    ("64:ff9b::808:808", True),  # NAT64, public
    ("64:ff9b:1::a00:1", False),  # local-use NAT64, private
    ("64:ff9b:1::808:808", True),  # local-use NAT64 (/96 layout), public
    ("64:ff9b:1:abcd::808:808", False),  # local-use NAT64 of another layout: where the IPv4 sits is unknown
    ("::", False),  # unspecified
    ("4000::1", False),  # reserved, not allocated
    ("ff0e::1", False),  # global-scope multicast
    ("2a00:1450:4007:80f::200e", True),  # native public IPv6
]


@pytest.mark.parametrize(("address", "public"), EMBEDDED_FORMS, ids=[address for address, _ in EMBEDDED_FORMS])
def test_ipv6_forms_are_judged_by_the_ipv4_they_carry(address: str, public: bool) -> None:
    assert is_public_address(ip_address(address)) is public
