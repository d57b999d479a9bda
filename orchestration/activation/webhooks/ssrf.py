"""SSRF guard for user-supplied webhook URLs: vet the address, then connect to exactly that address.

The rule: a webhook may only reach a global unicast address over http/https. We parse the URL,
resolve the host ourselves (every IP spelling is read the way `inet_aton` reads it: `2130706433`,
`0x7f000001`, `017700000001`, `127.1` are all 127.0.0.1), refuse the request if *any* answer is
loopback, private, link-local, cloud metadata, CGNAT, multicast, reserved or unspecified (IPv4
inside IPv6 — mapped, compatible, NAT64, 6to4 — is unwrapped and judged as IPv4), and then open
the TCP connection to the vetted IP ourselves. The Host header, TLS SNI and the certificate check
still use the hostname. No second DNS lookup happens, so DNS rebinding between check and connect
cannot win. Redirects are never followed (Standard Webhooks: a 3xx is a failed attempt), and no
proxy from the environment is used (it would do its own resolving).

CIDRs in DEVSIGNAL_WEBHOOK_ALLOW_PRIVATE (comma-separated) are reachable on purpose: an on-prem
receiver, or the tests' loopback receivers.
"""

from __future__ import annotations

import ipaddress
import re
import socket
from dataclasses import dataclass
from typing import Callable, Sequence
from urllib.parse import quote, urlsplit

import urllib3
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

from devsignal import settings

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
# host, port -> the addresses to try, in order (strings). Injectable so tests can play DNS.
Resolver = Callable[[str, int], Sequence[str]]

SCHEMES = {"http": 80, "https": 443}
ALLOW_SETTING = "DEVSIGNAL_WEBHOOK_ALLOW_PRIVATE"
CONNECT_TIMEOUT = 5.0   # seconds
READ_TIMEOUT = 15.0     # Svix: a 2xx within 15 s is a success
RESPONSE_EXCERPT = 1024  # bytes of the receiver's answer kept for the attempt log

# Named first so the error says "cloud metadata" rather than just "link-local".
METADATA = {ipaddress.ip_address(a) for a in (
    "169.254.169.254",   # AWS, GCP, Azure, OpenStack, DigitalOcean
    "169.254.170.2",     # AWS ECS task metadata
    "100.100.100.200",   # Alibaba Cloud
    "192.0.0.192",       # Oracle Cloud
    "fd00:ec2::254",     # AWS over IPv6
)}
V4_RULES = [(ipaddress.ip_network(net), why) for net, why in (
    ("0.0.0.0/8", "an unspecified ('this network') address"),
    ("127.0.0.0/8", "a loopback address"),
    ("10.0.0.0/8", "a private address"),
    ("172.16.0.0/12", "a private address"),
    ("192.168.0.0/16", "a private address"),
    ("169.254.0.0/16", "a link-local address"),
    ("100.64.0.0/10", "a carrier-grade NAT (shared) address"),
    ("192.0.0.0/24", "an IETF protocol-assignment address"),
    ("192.0.2.0/24", "a documentation address"),
    ("198.51.100.0/24", "a documentation address"),
    ("203.0.113.0/24", "a documentation address"),
    ("198.18.0.0/15", "a benchmarking address"),
    ("192.88.99.0/24", "a 6to4 relay anycast address"),
    ("224.0.0.0/4", "a multicast address"),
    ("240.0.0.0/4", "a reserved address"),
)]
V6_RULES = [(ipaddress.ip_network(net), why) for net, why in (
    ("::/128", "an unspecified address"),
    ("::1/128", "a loopback address"),
    ("fc00::/7", "a private (unique local) address"),
    ("fe80::/10", "a link-local address"),
    ("fec0::/10", "a site-local address"),
    ("ff00::/8", "a multicast address"),
    ("100::/64", "a discard-only address"),
    ("2001:db8::/32", "a documentation address"),
)]


class UnsafeWebhookURL(ValueError):
    """The URL may not be used as a webhook target; the message says why."""


class HostDoesNotResolve(UnsafeWebhookURL):
    """DNS has no answer for the host (perhaps only for now: deliveries retry)."""


@dataclass(frozen=True)
class Target:
    """A vetted URL: what to connect to (`addresses`, every one checked) and what to say (host, path)."""

    url: str
    scheme: str
    host: str          # as in the URL (Host header, SNI, certificate)
    port: int
    path: str          # path + query, what goes on the request line
    addresses: tuple[str, ...]


@dataclass(frozen=True)
class Response:
    status: int
    headers: dict[str, str]
    excerpt: str       # first RESPONSE_EXCERPT bytes of the body, decoded leniently
    peer: str          # the IP the socket was connected to


def system_resolver(host: str, port: int) -> list[str]:
    """The operating system's answer (A and AAAA), in its order, without duplicates."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as error:
        raise HostDoesNotResolve(f"webhook host {host!r} does not resolve: {error.strerror}") from error
    seen: list[str] = []
    for _family, _type, _proto, _name, sockaddr in infos:
        if sockaddr[0] not in seen:
            seen.append(sockaddr[0])
    return seen


# --------------------------------------------------------------------------- reading addresses

_INET_ATON_PART = re.compile(r"^(0x[0-9a-f]*|0[0-7]*|[1-9][0-9]*)$")
_NUMERIC_LOOKING = re.compile(r"^[0-9][0-9a-fx.]*$")


def ip_literal(host: str) -> IPAddress | None:
    """The address `host` spells, in any spelling a C resolver accepts; None for a hostname.

    `inet_aton` rules: 1–4 dot-separated parts, each decimal, octal (leading 0) or hex (0x); the
    last part fills the remaining bytes. So 2130706433, 0x7f000001, 017700000001, 0x7f.1 and 127.1
    all mean 127.0.0.1."""
    host = host.strip().rstrip(".").lower()
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        pass
    parts = host.split(".")
    if 1 <= len(parts) <= 4 and all(_INET_ATON_PART.match(part) for part in parts):
        values = [int(part, 16) if part.startswith("0x") else int(part, 8) if part.startswith("0") else int(part)
                  for part in [("0x0" if p == "0x" else p) for p in parts]]
        *leading, last = values
        if all(v <= 0xFF for v in leading) and last < 256 ** (4 - len(leading)):
            number = 0
            for v in leading:
                number = number * 256 + v
            return ipaddress.IPv4Address(number * 256 ** (4 - len(leading)) + last)
    if _NUMERIC_LOOKING.match(host):
        raise UnsafeWebhookURL(f"webhook host {host!r} looks like an IP address but is not a valid one")
    return None


def embedded_ipv4(address: IPAddress) -> ipaddress.IPv4Address | None:
    """The IPv4 address carried inside an IPv6 one (mapped, compatible, NAT64, 6to4), if any."""
    if isinstance(address, ipaddress.IPv4Address):
        return None
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    packed = int(address)
    if address in ipaddress.ip_network("64:ff9b::/96") or address in ipaddress.ip_network("64:ff9b:1::/48"):
        return ipaddress.IPv4Address(packed & 0xFFFFFFFF)
    if packed >> 32 == 0 and packed > 1:  # ::a.b.c.d, the deprecated IPv4-compatible form
        return ipaddress.IPv4Address(packed)
    return None


def allowed_networks() -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    """The CIDRs in DEVSIGNAL_WEBHOOK_ALLOW_PRIVATE (read now, not at import)."""
    networks = []
    for item in (settings.get(ALLOW_SETTING) or "").split(","):
        item = item.strip()
        if not item:
            continue
        try:
            networks.append(ipaddress.ip_network(item, strict=False))
        except ValueError as error:
            raise ValueError(f"{ALLOW_SETTING}: {item!r} is not a CIDR (e.g. 10.20.0.0/16 or fd00::/8): {error}") from None
    return networks


def refusal(address: IPAddress, allowed: Sequence = ()) -> str | None:
    """Why `address` may not be a webhook target (None = it may): 'a private address', ..."""
    inner = embedded_ipv4(address)
    judged = inner or address
    if any(judged.version == net.version and judged in net for net in allowed):
        return None
    if judged in METADATA or address in METADATA:
        return "a cloud metadata address"
    rules = V4_RULES if judged.version == 4 else V6_RULES
    for network, why in rules:
        if judged in network:
            return why
    if not judged.is_global:
        return "not a globally routable address"
    return None


# --------------------------------------------------------------------------- vetting URLs

def vet(url: str, resolver: Resolver | None = None) -> Target:
    """Check `url` and resolve its host once; raise UnsafeWebhookURL naming the reason.

    Every address the host resolves to must pass (one bad answer refuses the URL: an attacker
    controls the order). The returned Target is what `post` connects to."""
    if not isinstance(url, str) or not url.strip():
        raise UnsafeWebhookURL("a webhook URL is required")
    url = url.strip()
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in SCHEMES:
        raise UnsafeWebhookURL(f"webhook URL scheme {scheme + '://' if scheme else '(none)'} is not allowed; "
                               f"use http:// or https://")
    if parts.username is not None or parts.password is not None:
        raise UnsafeWebhookURL("webhook URLs may not carry credentials (user:password@); the signature "
                               "authenticates the sender")
    host = parts.hostname
    if not host:
        raise UnsafeWebhookURL(f"webhook URL {url!r} has no host")
    if not host.isascii():  # internationalised names travel as punycode (DNS, Host header, SNI)
        try:
            host = host.encode("idna").decode("ascii")
        except UnicodeError:
            raise UnsafeWebhookURL(f"webhook host {host!r} is not a valid hostname") from None
    try:
        port = parts.port or SCHEMES[scheme]
    except ValueError:
        raise UnsafeWebhookURL(f"webhook URL {url!r} has an invalid port") from None
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    path = quote(path, safe="!#$%&'()*+,/:;=?@[]~")   # non-ASCII and spaces percent-encoded; the rest as given
    literal = ip_literal(host)
    if literal is not None:
        answers = [str(literal)]
    else:
        answers = list((resolver or system_resolver)(host, port))
        if not answers:
            raise HostDoesNotResolve(f"webhook host {host!r} does not resolve to any address")
    allowed = allowed_networks()
    addresses = []
    for answer in answers:
        address = ipaddress.ip_address(answer.split("%")[0])
        why = refusal(address, allowed)
        if why:
            judged = embedded_ipv4(address) or address
            if literal is None:
                raise UnsafeWebhookURL(f"webhook URL refused: {host} resolves to {judged}, {why}")
            if host == str(judged):
                raise UnsafeWebhookURL(f"webhook URL refused: {host} is {why}")
            raise UnsafeWebhookURL(f"webhook URL refused: {host} is {judged}, {why}")
        # connect to the IPv4 address itself when it came wrapped in IPv6
        addresses.append(str(embedded_ipv4(address) or address))
    return Target(url=url, scheme=scheme, host=host, port=port, path=path, addresses=tuple(addresses))


# --------------------------------------------------------------------------- connecting to the vetted IP

class _PinnedMixin:
    pinned_ip: str = ""

    def _new_conn(self):  # urllib3 calls this to open the socket; we skip its DNS lookup
        if not self.pinned_ip:
            raise urllib3.exceptions.NewConnectionError(self, "refusing to connect: no vetted address pinned")
        try:
            sock = socket.create_connection((self.pinned_ip, self.port), self.timeout,
                                            source_address=self.source_address)
        except socket.timeout as error:
            raise urllib3.exceptions.ConnectTimeoutError(
                self, f"connection to {self.host} ({self.pinned_ip}) timed out") from error
        except OSError as error:
            raise urllib3.exceptions.NewConnectionError(
                self, f"connection to {self.host} ({self.pinned_ip}) failed: {error}") from error
        peer = ipaddress.ip_address(sock.getpeername()[0])
        if peer != ipaddress.ip_address(self.pinned_ip):  # belt and braces: the socket is where we vetted
            sock.close()
            raise urllib3.exceptions.NewConnectionError(self, f"connected to {peer}, not the vetted {self.pinned_ip}")
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return sock


class _PinnedHTTPConnection(_PinnedMixin, HTTPConnection):
    pass


class _PinnedHTTPSConnection(_PinnedMixin, HTTPSConnection):
    pass


class _PinnedPoolMixin:
    """A pool whose new connections all go to the one vetted address."""

    def __init__(self, *args, pinned_ip: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.pinned_ip = pinned_ip

    def _new_conn(self):
        conn = super()._new_conn()
        conn.pinned_ip = self.pinned_ip
        return conn


class _PinnedHTTPPool(_PinnedPoolMixin, HTTPConnectionPool):
    ConnectionCls = _PinnedHTTPConnection


class _PinnedHTTPSPool(_PinnedPoolMixin, HTTPSConnectionPool):
    ConnectionCls = _PinnedHTTPSConnection


def post(url: str, body: bytes, headers: dict[str, str], *, resolver: Resolver | None = None,
         connect_timeout: float = CONNECT_TIMEOUT, read_timeout: float = READ_TIMEOUT,
         ca_certs: str | None = None) -> Response:
    """POST `body` to `url` after vetting it, connected to the vetted IP; redirects are not followed.

    Raises UnsafeWebhookURL when the URL is refused, urllib3's errors when the network fails."""
    target = vet(url, resolver)
    timeout = urllib3.Timeout(connect=connect_timeout, read=read_timeout)
    last_error: Exception | None = None
    for address in target.addresses:  # every one vetted; try them in order like a normal client
        if target.scheme == "https":
            pool = _PinnedHTTPSPool(target.host, target.port, pinned_ip=address, timeout=timeout, maxsize=1,
                                    retries=False, cert_reqs="CERT_REQUIRED", ca_certs=ca_certs)
        else:
            pool = _PinnedHTTPPool(target.host, target.port, pinned_ip=address, timeout=timeout, maxsize=1,
                                   retries=False)
        try:
            response = pool.urlopen("POST", target.path, body=body, headers=headers, redirect=False,
                                    retries=False, preload_content=False, assert_same_host=False)
        except (urllib3.exceptions.NewConnectionError, urllib3.exceptions.ConnectTimeoutError) as error:
            last_error = error
            pool.close()
            continue
        try:
            excerpt = response.read(RESPONSE_EXCERPT, decode_content=False) or b""
        finally:
            response.release_conn()
            pool.close()
        return Response(status=response.status, headers={k.lower(): v for k, v in response.headers.items()},
                        excerpt=excerpt.decode("utf-8", "replace"), peer=address)
    assert last_error is not None
    raise last_error

