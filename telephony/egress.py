"""Where the bridge may connect: the operator decides, not the tenant.

An organization's admin types a host and port into an Asterisk connection record; the
bridge, a process shared by every organization, then opens a TCP connection there and
writes a login. Unchecked, any tenant admin could make it talk to the installation's
own Redis or database, or to any service on its private network. So a record's target
must pass this policy when it is saved and again each time the bridge connects:

* every address the host resolves to must be a public unicast address (not loopback,
  private, shared, link-local, unspecified, multicast or reserved, also when embedded in
  an IPv6 address), unless the operator lists it in ``AMI_ALLOWED_TARGETS`` (host
  names, IP addresses or networks, each with an optional port);
* none may be one of the installation's own services (its database, Redis, broker,
  metrics port) or an address of this machine, unless an allow-list entry that names
  the port admits it: allowing "10.0.0.0/8" does not open the Redis inside it;
* the bridge connects to the very address it checked, never to the name again, so a
  DNS answer that changes between the check and the connect (rebinding) cannot steer it.

``AMI_URL`` is the operator's own setting and is not checked.
"""

from __future__ import annotations

import ipaddress
import re
import socket
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured, ValidationError

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network

# RFC 1123 host names: letters, digits and inner hyphens, labels of at most 63, 253 in all.
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_HOSTNAME = re.compile(rf"(?=.{{1,253}}\Z){_LABEL}(?:\.{_LABEL})*")
# Line breaks of every kind, other control and format characters, lone surrogates: none
# belongs in a name, host, user or secret, and each can break a wire format or a log line.
_CONTROL_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})
_DEFAULT_PORTS = {"redis": 6379, "rediss": 6379, "amqp": 5672, "amqps": 5671}
_NOT_ALLOWED = "the platform operator must allow it (AMI_ALLOWED_TARGETS)"


class TargetRefused(ConnectionError):
    """The policy does not let the bridge connect there. The message is safe to show to
    the tenant: it names what they typed, never which internal service it hit."""

    def __init__(self, message: str, *, resolvable: bool = True) -> None:
        super().__init__(message)
        # False: the name did not resolve now; it may later (the bridge tries again).
        self.resolvable = resolvable


def no_control_characters(value: str) -> None:
    """Model validator: refuse CR, LF and every other control or format character."""
    if any(unicodedata.category(char) in _CONTROL_CATEGORIES for char in value):
        raise ValidationError(
            "Control characters (line breaks, tabs, ...) are not allowed.",
            code="control_characters",
        )


def ip_literal(host: str) -> IPAddress | None:
    """``host`` as an IP address, or None. Scoped IPv6 (``fe80::1%eth0``) is not taken."""
    if "%" in host:
        return None
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


def validate_host(value: str) -> None:
    """Model validator: a host name or an IP address, nothing else (no port, no URL)."""
    if ip_literal(value) is None and not _HOSTNAME.fullmatch(value):
        raise ValidationError(
            "Enter a host name or an IP address (no port, brackets or scheme).",
            code="invalid_host",
        )


# -- the operator's allow-list ---------------------------------------------------------


@dataclass(frozen=True)
class AllowedTarget:
    """One AMI_ALLOWED_TARGETS entry: a network (an address is a /32 or /128) or a host
    name, and a port (None: any)."""

    network: Network | None
    hostname: str
    port: int | None

    def admits(self, host: str, address: IPAddress, port: int) -> bool:
        if self.port is not None and self.port != port:
            return False
        if self.network is not None:
            return address.version == self.network.version and address in self.network
        return host.lower() == self.hostname


def parse_allowed(entry: str) -> AllowedTarget:
    """``10.0.0.0/8``, ``10.1.2.3:5038``, ``pbx.example.com``, ``[fd00::/8]:5038`` ...;
    raises ValueError."""
    host, port = entry.strip(), None
    if host.startswith("["):
        inner, bracket, rest = host[1:].partition("]")
        if not bracket or (rest and not rest.startswith(":")):
            raise ValueError(f"{entry!r}: write an IPv6 address as [address] or [address]:port")
        host, port = inner, _port(entry, rest[1:]) if rest else None
    elif host.count(":") == 1:
        host, raw_port = host.split(":")
        port = _port(entry, raw_port)
    if "/" in host:
        return AllowedTarget(ipaddress.ip_network(host, strict=False), "", port)
    literal = ip_literal(host)
    if literal is not None:
        return AllowedTarget(ipaddress.ip_network(literal), "", port)
    if not _HOSTNAME.fullmatch(host):
        raise ValueError(f"{entry!r} is not a host name, an IP address or a network")
    return AllowedTarget(None, host.lower(), port)


def _port(entry: str, raw: str) -> int:
    if not (raw.isascii() and raw.isdigit()) or not 1 <= int(raw) <= 65535:
        raise ValueError(f"{entry!r}: the port must be a number from 1 to 65535")
    return int(raw)


@lru_cache(maxsize=8)
def _parsed(entries: tuple[str, ...]) -> tuple[AllowedTarget, ...]:
    return tuple(parse_allowed(entry) for entry in entries)


def allowed_targets() -> tuple[AllowedTarget, ...]:
    try:
        return _parsed(tuple(settings.AMI_ALLOWED_TARGETS))
    except ValueError as exc:
        raise ImproperlyConfigured(f"AMI_ALLOWED_TARGETS: {exc}") from exc


# -- what is never a PBX: non-public addresses, our own services -------------------------


def _is_public(address: IPAddress) -> bool:
    if not address.is_global or address.is_multicast or address.is_reserved:
        return False
    if isinstance(address, ipaddress.IPv6Address):
        # An IPv4 address carried inside an IPv6 one reaches that IPv4 address.
        teredo = address.teredo
        for embedded in (address.ipv4_mapped, address.sixtofour, teredo and teredo[1]):
            if embedded and not _is_public(embedded):
                return False
    return True


def _service_urls() -> Iterator[str]:
    yield settings.REDIS_URL
    yield getattr(settings, "CELERY_BROKER_URL", "")
    yield getattr(settings, "REALTIME_PRESENCE_URL", "")
    for cache in getattr(settings, "CACHES", {}).values():
        location = cache.get("LOCATION", "")
        yield from [location] if isinstance(location, str) else location
    for layer in getattr(settings, "CHANNEL_LAYERS", {}).values():
        for host in layer.get("CONFIG", {}).get("hosts", []):
            if isinstance(host, dict):
                yield str(host.get("address", ""))
            elif isinstance(host, str):
                yield host
            elif isinstance(host, list | tuple) and len(host) == 2:
                yield f"redis://{host[0]}:{host[1]}"


def _own_services() -> set[tuple[str, int | None]]:
    """(host, port) of what this installation itself runs on; port None: any port."""
    found: set[tuple[str, int | None]] = set()
    database = settings.DATABASES.get("default", {})
    if database.get("HOST"):
        found.add((database["HOST"], int(database.get("PORT") or 5432)))
    for url in _service_urls():
        try:
            parts = urlsplit(url)
            port = parts.port or _DEFAULT_PORTS.get(parts.scheme)
        except ValueError:
            continue
        if parts.hostname:
            found.add((parts.hostname, port))
    if getattr(settings, "METRICS_PORT", 0):
        found.add((settings.METRICS_ADDR, settings.METRICS_PORT))
    # This machine, on any port: whatever else it runs is not a tenant's PBX.
    found.add((socket.gethostname(), None))
    return found


def _own_endpoints() -> set[tuple[IPAddress, int | None]]:
    endpoints: set[tuple[IPAddress, int | None]] = set()
    for host, port in _own_services():
        try:
            addresses = resolve(host)
        except TargetRefused:
            continue
        endpoints.update((address, port) for address in addresses)
    return endpoints


# -- the check ---------------------------------------------------------------------------


def resolve(host: str, port: int = 0) -> list[IPAddress]:
    """Every address ``host`` stands for (an IP literal stands for itself)."""
    literal = ip_literal(host)
    if literal is not None:
        return [literal]
    try:
        infos = socket.getaddrinfo(host, port or None, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        raise TargetRefused(f"{host} cannot be resolved.", resolvable=False) from exc
    return list(dict.fromkeys(ipaddress.ip_address(str(info[4][0])) for info in infos))


def check_addresses(host: str, port: int, addresses: Iterable[IPAddress]) -> None:
    """Raise TargetRefused unless every address may be dialled on ``port``."""
    allowed = allowed_targets()
    own = _own_endpoints()
    for address in addresses:
        admitted = [entry for entry in allowed if entry.admits(host, address, port)]
        if not admitted and not _is_public(address):
            raise TargetRefused(
                f"{address} is not a public address (loopback, private, link-local ...): "
                f"{_NOT_ALLOWED}."
            )
        # Our own services stay refused inside an allowed network ("10.0.0.0/8" where
        # Redis lives too): only an entry that names the port opens one of them.
        explicit = any(entry.port is not None for entry in admitted)
        if not explicit and ((address, port) in own or (address, None) in own):
            raise TargetRefused(
                f"{address}:{port} is not allowed for PBX connections: {_NOT_ALLOWED}."
            )


def check_target(host: str, port: int) -> list[IPAddress]:
    """The addresses of ``host`` if the bridge may dial every one of them on ``port``;
    else TargetRefused. Blocking (DNS): from async code, run it in a thread."""
    try:
        validate_host(host)
    except ValidationError as exc:
        raise TargetRefused("Not a host name or an IP address.") from exc
    addresses = resolve(host, port)
    check_addresses(host, port, addresses)
    return addresses


def check_settings(**_: Any) -> list[Any]:
    """System check: a bad AMI_ALLOWED_TARGETS entry stops the processes at start."""
    from django.core.checks import Error

    try:
        allowed_targets()
    except ImproperlyConfigured as exc:
        return [Error(str(exc), id="telephony.E001")]
    return []
