"""Which addresses a link may reach: the one rule for the link check, every redirect hop and every connection yt-dlp
makes (transcripts/engine/download.py).

The tables are written out here instead of read from `ipaddress`' is_global and is_private: those follow IANA's
special-purpose registries as of each Python release, so on 3.11 `fec0::/10` (deprecated site-local, still routed
on old networks), `192.0.0.8` (the IPv4 dummy address), `3fff::/20` (documentation) and `5f00::/16` (SRv6 SIDs)
passed as public. Here the answer is the same on every Python version.
"""

from __future__ import annotations

import ipaddress

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# IPv4 blocks that are not globally reachable unicast (RFC 6890 and IANA's IPv4 special-purpose registry).
IPV4_REFUSED = tuple(
    ipaddress.IPv4Network(block)
    for block in (
        "0.0.0.0/8",  # "this network"
        "10.0.0.0/8",  # private
        "100.64.0.0/10",  # carrier-grade NAT
        "127.0.0.0/8",  # loopback
        "169.254.0.0/16",  # link-local, cloud metadata
        "172.16.0.0/12",  # private
        "192.0.0.0/24",  # IETF protocol assignments: the dummy address .8, NAT64 discovery, the anycast services
        "192.0.2.0/24",  # documentation
        "192.88.99.0/24",  # the 6to4 relay anycast, deprecated
        "192.168.0.0/16",  # private
        "198.18.0.0/15",  # benchmarking
        "198.51.100.0/24",  # documentation
        "203.0.113.0/24",  # documentation
        "224.0.0.0/4",  # multicast
        "240.0.0.0/4",  # reserved, and the broadcast address
    )
)
# IPv6: global unicast is 2000::/3 (RFC 4291); everything outside it is refused, which covers ::/128, ::1,
# 100::/64 (discard), 5f00::/16 (SRv6 SIDs), fc00::/7 (unique local), fe80::/10 (link-local), fec0::/10
# (site-local) and ff00::/8 (multicast). Inside it, these blocks are not globally reachable:
IPV6_GLOBAL_UNICAST = ipaddress.IPv6Network("2000::/3")
IPV6_REFUSED = tuple(
    ipaddress.IPv6Network(block)
    for block in (
        "2001::/23",  # IETF protocol assignments, Teredo (2001::/32) among them
        "2001:db8::/32",  # documentation
        "3fff::/20",  # documentation
    )
)
# IPv6 forms that are only another way to write an IPv4 address: the IPv4 host is what gets reached, so it alone
# is judged (::ffff:8.8.8.8 is as public as 8.8.8.8, ::ffff:127.0.0.1 as private as 127.0.0.1). The address sits
# in the last 32 bits of each: IPv4-mapped, IPv4-translated (SIIT), IPv4-compatible (deprecated; :: and ::1 too,
# whose 0.0.0.0 and 0.0.0.1 are refused anyway) and NAT64's well-known prefix, which a DNS64 resolver hands out.
IPV4_IN_LAST_32_BITS = tuple(
    ipaddress.IPv6Network(prefix) for prefix in ("::ffff:0:0/96", "::ffff:0:0:0/96", "::/96", "64:ff9b::/96")
)
# NAT64's local-use prefix (RFC 8215) puts the IPv4 address where the operator's prefix length says (/48 … /96),
# which cannot be known from here; the block is not globally reachable, so all of it is refused.
NAT64_LOCAL_USE = ipaddress.IPv6Network("64:ff9b:1::/48")


def _global_unicast(ip: IPAddress) -> bool:
    if isinstance(ip, ipaddress.IPv4Address):
        return not any(ip in block for block in IPV4_REFUSED)
    return ip in IPV6_GLOBAL_UNICAST and not any(ip in block for block in IPV6_REFUSED)


def is_public(address: str) -> bool:
    """Whether a resolved address may be fetched: global unicast, and so is every IPv4 address it embeds."""
    ip = ipaddress.ip_address(address.split("%")[0])  # drop an IPv6 zone ("fe80::1%eth0")
    if isinstance(ip, ipaddress.IPv4Address):
        return _global_unicast(ip)
    if ip in NAT64_LOCAL_USE:
        return False
    if any(ip in network for network in IPV4_IN_LAST_32_BITS):
        return _global_unicast(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))
    # Tunnels carry traffic to the embedded IPv4 relays and hosts, so the IPv6 address and they must all be public:
    # 6to4 (2002::/16, the IPv4 in bits 16–48) and Teredo (2001::/32: the server's IPv4 in bits 32–64, the
    # client's in the last 32 bits inverted), unwrapped by the standard library.
    embedded = [ip.sixtofour] if ip.sixtofour is not None else []
    embedded += list(ip.teredo) if ip.teredo is not None else []
    return _global_unicast(ip) and all(_global_unicast(inner) for inner in embedded)
