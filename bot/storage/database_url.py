"""A PostgreSQL address (`database.url`, `BOT_DATABASE_URL`) read once, shown without its secret everywhere.

Operators paste passwords as they are, so the reading tolerates what a strict URL parser gets wrong: `#`, `/`,
`?`, `:` and `@` left unencoded in the password, or the password given as `?password=…`. What is shown (logs,
errors, `migrate-log`) never holds a password; an address that cannot be read is never shown at all, since
the secret could sit anywhere in it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import quote, unquote, urlencode

from bot.storage.schema import StorageError

SCHEMES = ("postgresql", "postgres")
UNREADABLE = "adresse de base de données illisible"
SECRET_OPTIONS = frozenset({"password", "sslpassword"})  # query options that hold a secret
_HOST = re.compile(r"[A-Za-z0-9._~%-]*|\[[0-9A-Fa-f:.]+(?:%[A-Za-z0-9._~-]+)?\]")
_OPTION_NAME = re.compile(r"[A-Za-z_]+")


@dataclass(frozen=True)
class DatabaseUrl:
    """The parts of a PostgreSQL address; `dsn` hands them, each encoded, to the driver."""

    scheme: str
    user: str | None
    password: str | None = field(repr=False)
    hosts: tuple[tuple[str, int | None], ...]  # (host as written, port); host "" means the driver's default
    database: str | None
    options: tuple[tuple[str, str], ...] = field(repr=False)  # query options, secrets included

    @property
    def has_secret(self) -> bool:
        return self.password is not None or any(name in SECRET_OPTIONS for name, _ in self.options)

    def shown(self) -> str:
        """The address fit for logs and messages: user, hosts and database; `***` where a password was."""
        user = quote(self.user or "", safe="") + (":***" if self.has_secret else "")
        return f"{self.scheme}://{user}{'@' if user else ''}{self._hostspec()}/{quote(self.database or '', safe='')}"

    def dsn(self) -> str:
        """The address as the driver reads it, every part percent-encoded (a `#` in the password included)."""
        user = quote(self.user or "", safe="")
        if self.password is not None:
            user += ":" + quote(self.password, safe="")
        query = "?" + urlencode(self.options, quote_via=quote) if self.options else ""
        database = quote(self.database or "", safe="")
        return f"postgresql://{user}{'@' if user else ''}{self._hostspec()}/{database}{query}"

    def _hostspec(self) -> str:
        return ",".join(host + (f":{port}" if port is not None else "") for host, port in self.hosts)


def parse_database_url(url: str) -> DatabaseUrl:
    """Read a PostgreSQL address; StorageError (French, never quoting the address) when it cannot be read."""
    scheme, separator, rest = url.strip().partition("://")
    if not separator or scheme.lower() not in SCHEMES:
        raise StorageError(
            "adresse de base de données non reconnue : elle doit être une adresse PostgreSQL (postgresql://…)"
        )
    user: str | None = None
    password: str | None = None
    at = _userinfo_end(rest)
    if at is not None:
        name, colon, secret = rest[:at].partition(":")
        user = unquote(name) or None
        password = unquote(secret) if colon else None
        rest = rest[at + 1 :]
    location, _, query = rest.partition("?")
    hostspec, _, database = location.partition("/")
    options = _options(query)
    password = next((value for name, value in options if name == "password"), password)
    options = tuple((name, value) for name, value in options if name != "password")
    return DatabaseUrl(scheme.lower(), user, password, _hosts(hostspec), unquote(database) or None, tuple(options))


def shown_url(url: str) -> str:
    """`url` fit for logs and messages (no password), or « adresse de base de données illisible »; never raises."""
    try:
        return parse_database_url(url).shown()
    except StorageError:
        return UNREADABLE


def database_label(path: object, url: str | None) -> str:
    """How operator messages name the query log: the PostgreSQL address without its secret, else the SQLite file."""
    return shown_url(url) if url else str(path)


def database_password(url: str | None) -> str | None:
    """The password an address holds (None when it has none or cannot be read): what the log filter hides."""
    if not url:
        return None
    try:
        return parse_database_url(url).password
    except StorageError:
        return None


def _userinfo_end(rest: str) -> int | None:
    """Where the user part ends: the last `@` (a password may hold `@`, `/`, `?`, `#`), unless that `@` sits in
    options whose every item reads `name=value` after an earlier `@` (an `@` in an option's value)."""
    last = rest.rfind("@")
    if last < 0:
        return None
    question = rest.find("?")
    if question < 0 or question > last:
        return last
    earlier = rest.rfind("@", 0, question)
    if earlier >= 0 and _looks_like_options(rest[earlier + 1 :].partition("?")[2]):
        return earlier
    return last


def _looks_like_options(query: str) -> bool:
    items = query.split("&")
    return all(_OPTION_NAME.fullmatch(item.partition("=")[0]) and "=" in item for item in items)


def _options(query: str) -> list[tuple[str, str]]:
    if not query:
        return []
    if not _looks_like_options(query):
        raise StorageError(
            f"{UNREADABLE} : après « ? », chaque option doit avoir la forme nom=valeur "
            "(encodez & # / @ dans un mot de passe : %26 %23 %2F %40)"
        )
    return [(name, unquote(value)) for name, _, value in (item.partition("=") for item in query.split("&"))]


def _hosts(hostspec: str) -> tuple[tuple[str, int | None], ...]:
    """`host[:port]` items separated by commas; StorageError for a bad port or host (neither is quoted back)."""
    hosts: list[tuple[str, int | None]] = []
    for item in hostspec.split(","):
        host, port_text = item, None
        closing = item.rfind("]")
        colon = item.rfind(":")
        if colon > closing:
            host, port_text = item[:colon], item[colon + 1 :]
        if not _HOST.fullmatch(host):
            raise StorageError(f"{UNREADABLE} : le nom d'hôte contient des caractères non permis")
        port = None
        if port_text is not None:
            if not (port_text.isascii() and port_text.isdigit() and 1 <= int(port_text) <= 65535):
                raise StorageError(f"{UNREADABLE} : le port doit être un nombre de 1 à 65535")
            port = int(port_text)
        hosts.append((host, port))
    return tuple(hosts)
