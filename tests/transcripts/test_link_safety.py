"""The link check sees through IPv6 forms that embed an IPv4 address (issue 7): the IPv4 host is what gets reached.

IP literals need no DNS, so these run offline; `is_public` is also the rule every redirect hop and connection uses.
"""

from __future__ import annotations

import ipaddress

import pytest

from transcripts.engine.download import DownloadError, check_url, is_public


@pytest.mark.parametrize(
    "url",
    [
        # IPv4-mapped
        "http://[::ffff:127.0.0.1]/x.mp4",
        "http://[::ffff:169.254.169.254]/latest/meta-data/",
        # IPv4-translated (SIIT)
        "http://[::ffff:0:a9fe:a9fe]/latest/meta-data/",
        # IPv4-compatible (deprecated)
        "http://[::127.0.0.1]/x.mp4",
        "http://[::10.0.0.1]/x.mp4",
        # NAT64, well-known prefix: cloud metadata and loopback through a DNS64 network's translator
        "http://[64:ff9b::127.0.0.1]/x.mp4",
        "http://[64:ff9b::a9fe:a9fe]/latest/meta-data/",
        "http://[64:ff9b::192.168.0.1]/x.mp4",
        # NAT64, local-use prefix: refused whole, its IPv4 position depends on the operator's prefix length
        "http://[64:ff9b:1::7f00:1]/x.mp4",
        "http://[64:ff9b:1::808:808]/x.mp4",
        # 6to4: the IPv4 address is in bits 16–48
        "http://[2002:7f00:1::]/x.mp4",
        "http://[2002:a00:1::1]/x.mp4",
        "http://[2002:a9fe:a9fe::]/latest/meta-data/",
        # Teredo: the client's IPv4 is the last 32 bits inverted (127.0.0.1, 10.0.0.1), the server's bits 32–64
        "http://[2001:0:4136:e378:8000:63bf:80ff:fffe]/x.mp4",
        "http://[2001:0:4136:e378:8000:63bf:f5ff:fffe]/x.mp4",
        "http://[2001:0:7f00:1:8000:63bf:b7b7:b7b7]/x.mp4",
    ],
)
def test_an_ipv4_address_wrapped_in_ipv6_is_refused_unless_allowed(url):
    with pytest.raises(DownloadError, match="private, loopback or reserved"):
        check_url(url, allow_private=False)
    check_url(url, allow_private=True)


@pytest.mark.parametrize(
    "url",
    [
        "http://[64:ff9b::8.8.8.8]/x.mp4",
        "http://[::ffff:8.8.8.8]/x.mp4",
        "http://[2002:808:808::1]/x.mp4",
        "http://[2001:4860:4860::8888]/x.mp4",
    ],
)
def test_a_public_ipv4_address_wrapped_in_ipv6_is_accepted(url):
    check_url(url, allow_private=False)


def test_a_teredo_address_is_refused_even_with_public_ends():
    # 2001::/32 is not globally reachable itself; the embedded addresses are checked besides.
    assert is_public("2001:0:808:808:8000:63bf:f7f7:f7f7") is False


@pytest.mark.parametrize(
    ("address", "public"),
    [
        ("::", False),  # IPv4-compatible 0.0.0.0
        ("::1", False),
        ("::ffff:0.0.0.0", False),
        ("64:ff9b::e000:1", False),  # 224.0.0.1, multicast
        ("64:ff9b::6440:1", False),  # 100.64.0.1, carrier-grade NAT
        ("64:ff9b::1.1.1.1", True),
    ],
)
def test_the_embedded_address_decides_for_the_ipv4_forms(address, public):
    assert is_public(address) is public


# Issue 16.10: the rule used to read `ipaddress`' tables, which on Python 3.11 let the first four through as public.
REFUSED = {
    "fec0::1": "site-local, deprecated",
    "fec0:ffff::1": "site-local, deprecated",
    "192.0.0.8": "the IPv4 dummy address",
    "3fff::1": "documentation",
    "3fff:fff:ffff::1": "documentation",
    "5f00::1": "SRv6 SIDs",
    "0.1.2.3": "this network",
    "10.1.2.3": "private",
    "100.127.255.254": "carrier-grade NAT",
    "127.0.0.1": "loopback",
    "169.254.169.254": "cloud metadata",
    "172.31.255.255": "private",
    "192.0.0.170": "NAT64 discovery",
    "192.0.2.1": "documentation",
    "192.88.99.1": "6to4 relay anycast",
    "192.168.1.1": "private",
    "198.19.0.1": "benchmarking",
    "198.51.100.1": "documentation",
    "203.0.113.1": "documentation",
    "239.255.255.250": "multicast",
    "255.255.255.255": "broadcast",
    "::": "unspecified",
    "::1": "loopback",
    "100::1": "discard",
    "2001:2::1": "benchmarking",
    "2001:10::1": "ORCHID",
    "2001:db8::1": "documentation",
    "fc00::1": "unique local",
    "fe80::1": "link-local",
    "ff02::1": "multicast",
    "4000::1": "outside global unicast (2000::/3)",
}
PUBLIC = ["1.1.1.1", "100.128.0.1", "172.32.0.1", "192.0.1.1", "198.20.0.1", "2001:200::1", "2a00:1450::1", "3ffe::1"]


@pytest.mark.parametrize("address", REFUSED, ids=[f"{a} ({why})" for a, why in REFUSED.items()])
def test_a_reserved_address_is_refused(address):
    assert is_public(address) is False
    literal = f"[{address}]" if ":" in address else address
    with pytest.raises(DownloadError, match="private, loopback or reserved"):
        check_url(f"http://{literal}/talk.mp3", allow_private=False)


@pytest.mark.parametrize("address", PUBLIC)
def test_a_global_unicast_address_beside_them_is_public(address):
    assert is_public(address) is True


def test_the_rule_reads_none_of_the_python_versions_tables(monkeypatch):
    def unread(self):
        raise AssertionError("the address rule must not depend on ipaddress' tables")

    for cls in (ipaddress.IPv4Address, ipaddress.IPv6Address):
        for flag in ("is_global", "is_private", "is_reserved", "is_multicast", "is_link_local", "is_site_local"):
            if hasattr(cls, flag):
                monkeypatch.setattr(cls, flag, property(unread))
    assert [is_public(a) for a in ("fec0::1", "192.0.0.8", "8.8.8.8", "2002:808:808::1")] == [False, False, True, True]
