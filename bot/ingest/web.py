"""Documents from a web address: one page (HTML, PDF or plain text) fetched on a moderator's behalf, safely.

The bot runs beside other services, so an address must never reach into that network (server-side request
forgery): only http(s); every hop's host, resolved, must be a public address, and the connection goes to exactly
the addresses checked (aiohttp connects to what the checking resolver returned, so a name cannot answer "public"
to the check and "private" to the connection); at most `MAX_REDIRECTS` redirects, each checked like the first;
a time-out over the whole fetch and a size cap enforced while reading. No proxy from the environment is used.
"""

from __future__ import annotations

import asyncio
import dataclasses
import ipaddress
import re
import socket
from ipaddress import IPv4Address, IPv6Address
from typing import TYPE_CHECKING

import aiohttp
from aiohttp.abc import AbstractResolver
from yarl import URL

from bot.ingest.errors import IngestError
from bot.ingest.formats import html_document, pdf_document, text_document
from bot.ingest.limits import DocumentLimits, french_size
from bot.ingest.sandbox import parse_page
from bot.search.corpus import Document

if TYPE_CHECKING:
    from aiohttp.abc import ResolveResult

MAX_REDIRECTS = 3
USER_AGENT = "bot-questions/0.1 (documents d'un serveur Discord)"
HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})
PDF_TYPES = frozenset({"application/pdf"})
TEXT_TYPES = frozenset({"text/plain", "text/markdown"})
_REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
_CHUNK = 64 * 1024
_SHOWN_URL_CHARS = 100

# Never reached, whatever the page or its redirects say: Python's `is_global` already excludes them, the list
# says what is meant. Cloud metadata services live in link-local (169.254.169.254, fd00:ec2::254) or CGNAT space.
BLOCKED_NETWORKS = tuple(
    ipaddress.ip_network(network)
    for network in (
        "0.0.0.0/8",  # "this" network
        "10.0.0.0/8",  # private
        "100.64.0.0/10",  # carrier-grade NAT
        "127.0.0.0/8",  # loopback
        "169.254.0.0/16",  # link-local, cloud metadata
        "172.16.0.0/12",  # private
        "192.0.0.0/24",  # IETF protocol assignments
        "192.0.2.0/24",  # documentation
        "192.168.0.0/16",  # private
        "198.18.0.0/15",  # benchmarking
        "198.51.100.0/24",  # documentation
        "203.0.113.0/24",  # documentation
        "224.0.0.0/4",  # multicast
        "240.0.0.0/4",  # reserved, broadcast
        "::/128",  # unspecified
        "::1/128",  # loopback
        "100::/64",  # discard
        "2001:db8::/32",  # documentation
        "fc00::/7",  # unique local
        "fe80::/10",  # link-local
        "fec0::/10",  # site-local (deprecated)
        "ff00::/8",  # multicast
    )
)
# Where an IPv6 address carries an IPv4 one, the traffic ends at that IPv4 address: the decision is made on it.
_MAPPED = ipaddress.ip_network("::ffff:0:0/96")  # IPv4-mapped
_TRANSLATED = ipaddress.ip_network("::ffff:0:0:0/96")  # IPv4-translated (SIIT)
_COMPATIBLE = ipaddress.ip_network("::/96")  # IPv4-compatible (deprecated, still routed by some stacks)
_NAT64 = ipaddress.ip_network("64:ff9b::/96")  # well-known NAT64 prefix
_LOCAL_NAT64 = ipaddress.ip_network("64:ff9b:1::/48")  # local-use NAT64 prefix
_LOCAL_NAT64_96 = ipaddress.ip_network("64:ff9b:1::/96")  # the one layout of it whose IPv4 place is known
_SIXTOFOUR = ipaddress.ip_network("2002::/16")
_TEREDO = ipaddress.ip_network("2001::/32")
_LOW_32_BITS = 0xFFFFFFFF


def embedded_ipv4(address: IPv6Address) -> tuple[IPv4Address, ...] | None:
    """The IPv4 addresses an IPv6 address leads to (Teredo: its server and its client), `()` when it is of a
    carrying form whose IPv4 place cannot be known, None for a native IPv6 address."""
    low = IPv4Address(int(address) & _LOW_32_BITS)
    if any(address in network for network in (_MAPPED, _TRANSLATED, _COMPATIBLE, _NAT64, _LOCAL_NAT64_96)):
        return (low,)
    if address in _LOCAL_NAT64:
        return ()  # a local prefix of another length: the IPv4 bits sit elsewhere, so refuse
    if address in _SIXTOFOUR:
        return (IPv4Address((int(address) >> 80) & _LOW_32_BITS),)
    if address in _TEREDO:
        server = IPv4Address((int(address) >> 64) & _LOW_32_BITS)
        client = IPv4Address(~int(address) & _LOW_32_BITS)  # stored inverted
        return (server, client)
    return None


def _globally_routable(address: IPv4Address | IPv6Address) -> bool:
    special = address.is_multicast or address.is_unspecified or address.is_reserved
    return address.is_global and not special and not any(address in network for network in BLOCKED_NETWORKS)


def is_public_address(address: IPv4Address | IPv6Address) -> bool:
    """Whether the fetcher may connect to `address`: a globally routable unicast address; an IPv6 address that
    carries IPv4 ones (mapped, translated, compatible, 6to4, Teredo, NAT64) is judged by every one of them."""
    if isinstance(address, IPv6Address):
        carried = embedded_ipv4(address)
        if carried is not None:
            return bool(carried) and all(_globally_routable(ipv4) for ipv4 in carried)
    return _globally_routable(address)


class _PrivateHost(Exception):
    """Internal: a name resolved to an address that is not public; the argument is the name."""


class _PublicOnlyResolver(AbstractResolver):
    """The system's DNS answers for a name, refused whole when one of them is not a public address."""

    def __init__(self) -> None:
        self._system = aiohttp.ThreadedResolver()

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        answers = await self._system.resolve(host, port, family)
        if not all(is_public_address(ipaddress.ip_address(answer["host"])) for answer in answers):
            raise _PrivateHost(host)
        return answers

    async def close(self) -> None:
        await self._system.close()


async def fetch_document(url: str, limits: DocumentLimits, *, allow_private_addresses: bool = False) -> Document:
    """The page at `url` as a Document: HTML through trafilatura, PDF through pypdf, or plain text.

    Its `url` is the address finally fetched (after redirects), never the one the page claims, so a page cannot
    pass itself off as another site's; its id is made of that address. Raises `IngestError` (French, naming the
    address) for a refused address or redirect, a network failure, an HTTP error, a time-out past
    `limits.fetch_timeout`, a page over `limits.max_file_bytes`, an unsupported content type, a page without text, or
    one whose parse runs past `limits.parse_seconds` (`bot.ingest.sandbox`).

    `allow_private_addresses` lifts the public-address check, for tests on 127.0.0.1 and deployments whose
    documents live on their own network. It stays off by default because anyone allowed to add documents could
    otherwise make the bot read what only its host can reach (an admin page, a database's HTTP port, the cloud
    metadata service with its credentials) and quote it back in the server.
    """
    shown = _shown(url)
    try:
        async with asyncio.timeout(limits.fetch_timeout):
            final, content_type, charset, body = await _download(url, limits.max_file_bytes, allow_private_addresses)
    except TimeoutError:
        seconds = f"{limits.fetch_timeout:g}".replace(".", ",")
        raise IngestError(
            f"{shown} : le site n'a pas répondu en {seconds} s. Réessayez plus tard, ou donnez la page en pièce jointe."
        ) from None
    except _PrivateHost as exc:
        raise IngestError(
            f"{shown} : le site « {exc} » est sur un réseau privé ou local, que le bot ne consulte pas."
        ) from None
    except aiohttp.ClientConnectorCertificateError:
        raise IngestError(f"{shown} : le certificat de sécurité du site n'est pas valide.") from None
    except aiohttp.ClientConnectorError:
        raise IngestError(f"{shown} : le site est injoignable (nom inconnu ou connexion refusée).") from None
    except aiohttp.ClientError:
        raise IngestError(f"{shown} : la page n'a pas pu être téléchargée (erreur de connexion).") from None
    return await parse_page(shown, str(final), content_type, charset, body, limits)


async def _download(url: str, max_bytes: int, allow_private: bool) -> tuple[URL, str, str | None, bytes]:
    """The final address, content type, charset and body of `url`, following redirects, each hop checked."""
    current = _checked_url(url, allow_private)
    connector = aiohttp.TCPConnector(
        resolver=None if allow_private else _PublicOnlyResolver(), use_dns_cache=False, force_close=True
    )
    headers = {"User-Agent": USER_AGENT, "Accept": "text/html, application/pdf, text/plain;q=0.9, */*;q=0.1"}
    async with aiohttp.ClientSession(connector=connector, headers=headers, trust_env=False) as session:
        for _ in range(MAX_REDIRECTS + 1):
            async with session.get(current, allow_redirects=False) as response:
                if response.status in _REDIRECT_STATUSES and "Location" in response.headers:
                    current = _checked_url(response.headers["Location"], allow_private, base=current)
                    continue
                if not 200 <= response.status < 300:
                    raise IngestError(f"{_shown(str(current))} : le site a répondu par l'erreur {response.status}.")
                if response.content_length is not None and response.content_length > max_bytes:
                    raise _too_large(current, max_bytes)
                body = bytearray()
                async for chunk in response.content.iter_chunked(_CHUNK):
                    body += chunk
                    if len(body) > max_bytes:
                        raise _too_large(current, max_bytes)
                return current, response.content_type, response.charset, bytes(body)
    raise IngestError(f"{_shown(url)} : plus de {MAX_REDIRECTS} redirections, la page n'a pas été suivie plus loin.")


def _checked_url(text: str, allow_private: bool, base: URL | None = None) -> URL:
    """`text` (relative to `base`, for a redirect) as an http(s) URL without credentials or fragment; an
    IP-address host must be public.

    Names are checked by `_PublicOnlyResolver` once resolved; a host that aiohttp would not resolve (digits and
    dots, or a colon) must be a well-formed address, since legacy forms such as 127.1 reach loopback.
    """
    shown = _shown(text)
    try:
        url = URL(text.strip()) if base is None else base.join(URL(text.strip()))
    except (ValueError, TypeError):
        raise IngestError(f"{shown} : adresse invalide.") from None
    if url.scheme not in ("http", "https"):
        raise IngestError(f"{shown} : seules les adresses http:// et https:// sont acceptées.")
    if not url.host:
        raise IngestError(f"{shown} : l'adresse n'a pas de nom de site.")
    if url.user is not None or url.password is not None:
        raise IngestError(f"{shown} : une adresse avec identifiant ou mot de passe n'est pas acceptée.")
    try:
        address = ipaddress.ip_address(url.host)
    except ValueError:
        if ":" in url.host or url.host.replace(".", "").isdigit():
            raise IngestError(f"{shown} : adresse IP mal formée.") from None
        address = None
    if address is not None and not allow_private and not is_public_address(address):
        raise _private(shown)
    return url.with_fragment(None)


def _private(shown: str) -> IngestError:
    return IngestError(f"{shown} : cette adresse est sur un réseau privé ou local, que le bot ne consulte pas.")


def _too_large(url: URL, max_bytes: int) -> IngestError:
    return IngestError(
        f"{_shown(str(url))} : la page dépasse la limite de {french_size(max_bytes)}. "
        "Donnez-en une version plus courte en pièce jointe."
    )


def page_document(shown: str, address: str, content_type: str, charset: str | None, body: bytes) -> Document:
    """Parse a body fetched from `address` by its content type (blocking: `fetch_document` runs it in
    `bot.ingest.sandbox`); the document keeps the address it was fetched from."""
    url = URL(address)
    doc_id = url_id(url)
    if not body.strip():
        raise IngestError(f"{shown} : la page est vide.")
    if content_type in HTML_TYPES:
        document = html_document(shown, body, doc_id, charset=charset, url=address)
    elif content_type in PDF_TYPES:
        document = pdf_document(shown, body, doc_id, url=address)
    elif content_type in TEXT_TYPES:
        document = text_document(shown, body, doc_id, charset=charset, url=address)
    else:
        raise IngestError(
            f"{shown} : contenu de type « {content_type or 'inconnu'} », non pris en charge "
            "(acceptés : page HTML, PDF, texte brut)."
        )
    return dataclasses.replace(document, url=address, publisher=document.publisher or url.host)


def url_id(url: URL) -> str:
    """A readable document id for an address: its host and path, lower case, runs of other characters as "-"."""
    slug = re.sub(r"[^a-z0-9]+", "-", f"{url.host}{url.path}".lower()).strip("-")
    return slug[:120].rstrip("-") or "page"


def _shown(url: str) -> str:
    """An address as quoted in a message: shortened when long."""
    url = url.strip()
    return url if len(url) <= _SHOWN_URL_CHARS else url[: _SHOWN_URL_CHARS - 1] + "…"
