"""Which addresses an HTTP Task may reach. A definition comes from users and its URLs from
execution input, so without a rule any execution could make the server call its own admin
ports, the database, the cloud's instance metadata (credentials!) or the office network
(server-side request forgery). The rule: only globally routable unicast addresses, unless the
app's allow-list names the address, its network or the host name.

The check is on addresses, after resolution, never on the URL's text: ``2130706433``,
``0177.0.0.1``, ``[::ffff:127.0.0.1]`` and a name that resolves to ``10.0.0.5`` are all spelled
differently from ``127.0.0.1`` or ``10.0.0.5`` and all reach them. IPv6 forms that embed an IPv4
address (IPv4-mapped, 6to4, NAT64, Teredo) are judged by the address they embed.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable
from typing import TypeAlias

from legato.errors import ConfigurationError

IPAddress: TypeAlias = ipaddress.IPv4Address | ipaddress.IPv6Address
Network: TypeAlias = ipaddress.IPv4Network | ipaddress.IPv6Network

#: instance metadata services: AWS (IPv4, IPv6, ECS task metadata), GCP and Azure share the
#: link-local one, Alibaba's sits in the CGNAT range; named so the refusal says why it matters
METADATA = frozenset(
    ipaddress.ip_address(a)
    for a in ("169.254.169.254", "fd00:ec2::254", "169.254.170.2", "100.100.100.200")
)
CGNAT = ipaddress.ip_network("100.64.0.0/10")
UNIQUE_LOCAL = ipaddress.ip_network("fc00::/7")
NAT64 = ipaddress.ip_network("64:ff9b::/96")
_HOST = re.compile(r"^(?=.*[a-z])[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$")


class AddressPolicy:
    """The allow-list of one app: networks (``127.0.0.1``, ``10.0.0.0/8``, ``::1``) and host
    names (``localhost``, ``api.internal``), each allowed whatever it is."""

    def __init__(self, allow: Iterable[str] = ()) -> None:
        self.networks: list[Network] = []
        self.hosts: set[str] = set()
        for entry in allow:
            try:
                self.networks.append(ipaddress.ip_network(entry.strip(), strict=False))
            except ValueError:
                if not _HOST.match(_host_key(entry)):  # a typo'd network must not pass silently
                    raise ConfigurationError(
                        f"http_allow: {entry!r} is neither an address, a network (10.0.0.0/8) "
                        "nor a host name"
                    ) from None
                self.hosts.add(_host_key(entry))

    def allows_host(self, host: str) -> bool:
        return _host_key(host) in self.hosts

    def refusal(self, address: str) -> str | None:
        """Why ``address`` may not be reached (e.g. ``"loopback"``), or None when it may."""
        ip = ipaddress.ip_address(address.split("%", 1)[0])  # no zone index
        inner = embedded(ip)
        if any(candidate in net for candidate in {ip, inner} for net in self.networks):
            return None
        return category(inner)


def embedded(ip: IPAddress) -> IPAddress:
    """The IPv4 address an IPv6 one carries (IPv4-mapped, 6to4, NAT64, Teredo), else itself."""
    if isinstance(ip, ipaddress.IPv4Address):
        return ip
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip.teredo is not None:
        return ip.teredo[1]
    if ip in NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return ip


def category(ip: IPAddress) -> str | None:
    """The kind of address that is refused, or None for a globally routable unicast one."""
    if ip in METADATA:
        return "cloud metadata"
    checks = (
        (ip.is_unspecified, "unspecified"),
        (ip.is_loopback, "loopback"),
        (ip.is_link_local, "link-local"),
        (ip.is_multicast, "multicast"),
        (isinstance(ip, ipaddress.IPv4Address) and ip in CGNAT, "carrier-grade NAT"),
        (isinstance(ip, ipaddress.IPv6Address) and ip in UNIQUE_LOCAL, "unique-local"),
        (ip.is_reserved, "reserved"),
        (ip.is_private, "private"),
        (not ip.is_global, "non-global"),
    )
    return next((name for hit, name in checks if hit), None)


def _host_key(host: str) -> str:
    return host.strip().strip("[]").rstrip(".").lower()
