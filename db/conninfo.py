"""Connection strings read by libpq's own rules: the one way to parse, show and compare them.

A URL (`postgresql://...`) or a key=value DSN is parsed by psycopg's conninfo
parser, exactly as a connection would read it, never edited as text: a password
may hold `?`, `#`, `@` or `%`, and `?password=` is as much a password as
`user:password@`. What is shown is rendered from the parsed fields on an
allow-list, so a secret-bearing field (password, sslpassword, passfile, an IAM
token passed as password) cannot reach a page, a log line or a terminal.
"""

from __future__ import annotations

import ipaddress
import os
import re
import socket
from typing import Any
from urllib.parse import quote

from psycopg.conninfo import conninfo_to_dict

from db.settings import ConfigError

SHOWN = ("user", "host", "hostaddr", "port", "dbname", "sslmode")  # everything else is left out
SECRET_FIELDS = ("password", "sslpassword")
UNPARSEABLE = "(connection string cannot be parsed)"
MALFORMED = "is malformed: a password holding @ or / must be percent-encoded in a URL (@ is %40, / is %2F)"
# What a host name, an IP address or a socket directory can be made of; anything
# else (an unescaped `@` of a password, say) is not shown.
_HOST = re.compile(r"^[\w.\-:/\[\]%~+ ,]*$")

DEFAULT_SOCKET_DIR = "/var/run/postgresql"  # libpq's host when none is given (Debian's build)


def parse(conninfo: str, what: str = "The database URL") -> dict[str, Any]:
    """The fields libpq reads from `conninfo`. Raises ConfigError whose text holds
    nothing of the string (libpq's own message may quote a piece of it), also for
    a URL libpq reads otherwise than its author meant (see `_misread`)."""
    try:
        parsed = conninfo_to_dict(conninfo)
    except Exception:
        raise ConfigError(f"{what} cannot be parsed (check its quoting and percent-escapes).") from None
    if _misread(conninfo, parsed):
        raise ConfigError(f"{what} {MALFORMED}.")
    return parsed


def _misread(conninfo: str, parsed: dict[str, Any]) -> bool:
    """A URL whose password holds an unescaped @ or / is read by libpq with part of
    the password as host, port or database name, where it would be shown: libpq
    ends the user part at the first @ or /. Such a URL has a second @ in its
    authority, an @ in its path, or a port that is not a number."""
    if "://" in conninfo:
        rest = conninfo.split("://", 1)[1].split("?", 1)[0]
        authority, _, path = rest.partition("/")
        if authority.count("@") > 1 or "@" in path:
            return True
    port = str(parsed.get("port") or "")
    hosts = str(parsed.get("host") or "")
    return not re.fullmatch(r"[0-9, ]*", port) or ("@" in hosts and not hosts.startswith("@"))


def describe(conninfo: str | None) -> str:
    """The connection for people: `postgresql://user@host:port/dbname`, from the
    parsed form, with no secret-bearing field (a socket directory goes in ?host=)."""
    if not conninfo:
        return "(not set)"
    try:
        p = conninfo_to_dict(conninfo)
    except Exception:
        return UNPARSEABLE
    if _misread(conninfo, p):
        return f"(connection string {MALFORMED})"
    host = str(p.get("hostaddr") or p.get("host") or "")
    if not _HOST.match(host):
        host = "(invalid host)"
    user = quote(str(p["user"]), safe="") + "@" if p.get("user") else ""
    query = {}
    if host.startswith("/") or "," in host:
        query["host"], host = host, ""
    port = f":{quote(str(p['port']), safe=',')}" if p.get("port") else ""
    if p.get("sslmode"):
        query["sslmode"] = str(p["sslmode"])
    tail = "?" + "&".join(f"{k}={quote(v, safe='/,')}" for k, v in query.items()) if query else ""
    return f"postgresql://{user}{host}{port}/{quote(str(p.get('dbname') or ''), safe='')}{tail}"


def secrets_in(conninfo: str | None) -> set[str]:
    """Every secret a connection string holds, for scrubbing free text. Parsed when
    possible; a string libpq cannot parse is searched leniently, since its secret
    may still sit in an error message."""
    if not conninfo:
        return set()
    found = _lenient_secrets(conninfo)  # as a person reads it: the whole password, even if misread
    try:
        p = conninfo_to_dict(conninfo)
    except Exception:
        pass
    else:
        found |= {str(p[k]) for k in SECRET_FIELDS if p.get(k)}
    return {s for s in found if s}


def _lenient_secrets(text: str) -> set[str]:
    found = set(re.findall(r"(?:^|[\s?&])(?:ssl)?password\s*=\s*('(?:[^'\\]|\\.)*'|[^\s&]+)", text, flags=re.I))
    found = {s.strip("'") for s in found}
    if "://" in text:
        rest = text.split("://", 1)[1]
        userinfo = rest.rsplit("@", 1)[0] if "@" in rest else ""
        if ":" in userinfo:
            found.add(userinfo.split(":", 1)[1])
    return found


def endpoint(conninfo: str) -> tuple[frozenset[str], int, str]:
    """(addresses, port, dbname) the way libpq will connect: host names lower-cased
    without a trailing dot and resolved (localhost is 127.0.0.1), socket
    directories made absolute, the port a number (05432 is 5432), defaults from
    PGHOST/PGPORT/PGDATABASE. Two spellings of one server share an address."""
    p = parse(conninfo)
    hosts, ports = _host_and_port_lists(p)
    port = _port(ports[0])
    dbname = str(p.get("dbname") or os.environ.get("PGDATABASE") or p.get("user") or os.environ.get("PGUSER") or "")
    return frozenset().union(*(_addresses(host, port) for host in hosts)), port, dbname


def endpoints(conninfo: str) -> tuple[tuple[frozenset[str], int], ...]:
    """Each server libpq may try for this URL, in order: (its addresses, its port).

    A host list pairs with a port list position by position (one port serves them
    all), as libpq pairs them; addresses are normalised as in `endpoint`."""
    hosts, ports = _host_and_port_lists(parse(conninfo))
    if len(ports) == 1:
        ports *= len(hosts)
    if len(ports) != len(hosts):
        raise ConfigError(f"The database URL names {len(hosts)} hosts but {len(ports)} ports.")
    return tuple(
        (_addresses(host.strip() or DEFAULT_SOCKET_DIR, port), port)
        for host, port in ((host, _port(text)) for host, text in zip(hosts, ports, strict=True))
    )


def _host_and_port_lists(p: dict) -> tuple[list[str], list[str]]:
    """The URL's host and port lists as written, PGHOST/PGPORT and libpq's defaults filling in."""
    hosts = str(p.get("hostaddr") or p.get("host") or os.environ.get("PGHOST") or DEFAULT_SOCKET_DIR)
    ports = str(p.get("port") or os.environ.get("PGPORT") or "5432")
    return hosts.split(","), ports.split(",")


def _port(text: str) -> int:
    text = text.strip() or "5432"
    try:
        return int(text)
    except ValueError:
        raise ConfigError(f"The database port {text!r} is not a number.") from None


def _addresses(host: str, port: int) -> frozenset[str]:
    """One host's normalised addresses: a socket directory made absolute, a name and what it resolves to."""
    host = host.strip()
    if host.startswith("/"):
        return frozenset({"unix:" + os.path.realpath(host)})
    if host.startswith("@"):
        return frozenset({"unix:" + host})
    name = host.lower().rstrip(".")
    addresses = {_canonical_ip(name) or name}
    try:
        for info in socket.getaddrinfo(name, port, type=socket.SOCK_STREAM):
            address = str(info[4][0])
            addresses.add(_canonical_ip(address) or address)
    except (OSError, UnicodeError):
        pass  # not resolvable here: the normalised name stands for itself
    return frozenset(addresses)


def _canonical_ip(text: str) -> str | None:
    try:
        address = ipaddress.ip_address(text.strip("[]"))
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    return address.compressed
