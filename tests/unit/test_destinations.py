"""The destination grammar, matching and connection-string targets of engines/egress/destinations.py."""

from __future__ import annotations

import pytest

from drivers.health.provider_requests import DEFAULT_BASE_URLS
from engines.egress.destinations import (
    Destination,
    allows,
    connection_string_destinations,
    parse_destination,
    provider_destinations,
    require_destinations,
    url_destinations,
)
from engines.kernel.errors import InvalidArgument


@pytest.mark.parametrize(
    ("text", "parsed"),
    [
        pytest.param("api.openai.com", Destination("api.openai.com"), id="host"),
        pytest.param("API.OpenAI.com.", Destination("api.openai.com"), id="normalised"),
        pytest.param("db:5432", Destination("db", 5432), id="host-port"),
        pytest.param("[::1]:5432", Destination("::1", 5432), id="v6-port"),
        pytest.param("[0:0::1]", Destination("::1"), id="v6-canonical"),
        pytest.param("*.openai.azure.com:443", Destination("*.openai.azure.com", 443), id="wild"),
        pytest.param("https://api.openai.com", None, id="scheme"),
        pytest.param("api.openai.com/v1", None, id="path"),
        pytest.param("db:0", None, id="port-0"),
        pytest.param("db:65536", None, id="port-too-big"),
        pytest.param("db:05432", None, id="port-leading-zero"),
        pytest.param("*", None, id="bare-star"),
        pytest.param("*.com", None, id="tld-wildcard"),
        pytest.param("*.10.0.0.1", None, id="ip-wildcard"),
        pytest.param("a..b", None, id="empty-label"),
        pytest.param("user@db", None, id="userinfo"),
        pytest.param("::1", None, id="v6-unbracketed"),
        pytest.param("", None, id="empty"),
    ],
)
def test_parse_destination(text: str, parsed: Destination | None) -> None:
    assert parse_destination(text) == parsed


@pytest.mark.parametrize(
    ("allowed", "target", "ok"),
    [
        pytest.param(["api.openai.com:443"], "api.openai.com:443", True, id="exact"),
        pytest.param(["api.openai.com:443"], "api.openai.com:80", False, id="other-port"),
        pytest.param(["api.openai.com"], "api.openai.com:8443", True, id="any-port"),
        pytest.param(["api.openai.com"], "api.openai.com.evil.example:443", False, id="suffix"),
        pytest.param(["*.openai.azure.com"], "x.y.openai.azure.com:443", True, id="wild"),
        pytest.param(["*.openai.azure.com"], "openai.azure.com:443", False, id="wild-not-apex"),
        pytest.param(["*.openai.azure.com"], "evilopenai.azure.com:443", False, id="wild-label"),
        pytest.param(["127.0.0.1"], "localhost:80", False, id="no-resolution"),
        pytest.param([], "api.openai.com:443", False, id="nowhere"),
    ],
)
def test_allows(allowed: list[str], target: str, ok: bool) -> None:
    parsed = parse_destination(target, wildcard=False)
    assert parsed is not None
    assert allows(allowed, [parsed]) is ok


@pytest.mark.parametrize(
    ("dsn", "targets"),
    [
        pytest.param("postgresql://u:p@db/x", ["db:5432"], id="default-port"),
        pytest.param("postgres://u@[::1]:6543/x", ["[::1]:6543"], id="v6"),
        pytest.param("postgresql://u@a:1,b/x", ["a:1", "b:5432"], id="multi-host"),
        pytest.param("postgresql://u@a/x?host=b&port=7", ["a:7", "b:7"], id="query-host-port"),
        pytest.param("postgresql://u@a:1/x?port=7", ["a:1", "a:7"], id="query-port-too"),
        pytest.param("postgresql://u@/x?host=/tmp", None, id="socket"),
        pytest.param("postgresql://u@db:99999/x", None, id="bad-port"),
        pytest.param("host=db user=u", None, id="keyword-form"),
        pytest.param("https://db/x", None, id="not-postgres"),
    ],
)
def test_connection_string_destinations(dsn: str, targets: list[str] | None) -> None:
    found = connection_string_destinations(dsn)
    assert (None if found is None else [str(d) for d in found]) == targets


def test_url_destinations() -> None:
    assert url_destinations("https://api.example/v1?x=1") == "api.example:443"
    assert url_destinations("http://[::1]:8080/h") == "[::1]:8080"
    assert url_destinations("postgresql://u@a,b:6/x") == "a:5432,b:6"
    assert url_destinations("postgresql://u@/x?host=/run") is None
    assert url_destinations("http://[::1") is None  # not a URL: it reaches nowhere


def test_require_destinations_names_every_bad_entry_and_dedupes() -> None:
    assert require_destinations("d", ["A.example", "a.example.", "b:1"]) == ("a.example", "b:1")
    with pytest.raises(InvalidArgument) as caught:
        require_destinations("d", ["ok", "http://x", " padded", "x:0"])
    assert [v.field for v in caught.value.violations] == ["d[1]", "d[2]", "d[3]"]
    with pytest.raises(InvalidArgument):
        require_destinations("d", [f"h{i}" for i in range(33)])


def test_provider_defaults_cover_the_probes_default_base_urls() -> None:
    """A key created for a provider may go where that provider's probe sends it by default."""
    for provider, base_url in DEFAULT_BASE_URLS.items():
        target = url_destinations(base_url)
        assert target is not None
        parsed = parse_destination(target, wildcard=False)
        assert parsed is not None
        assert allows(provider_destinations("provider", provider.name), [parsed]), provider
