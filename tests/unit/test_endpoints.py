"""URL and connection string parsing: masking and restoring passwords, host:port, refusals that
never echo the value."""

from __future__ import annotations

import pytest

from engines.egress.endpoints import (
    HostPort,
    parse_host_port,
    require_http_url,
    require_url,
    split_password,
    with_password,
)
from engines.kernel.errors import InvalidArgument


@pytest.mark.parametrize(
    ("url", "masked", "password"),
    [
        pytest.param(
            "postgresql://app:s3cr%40t@db:5432/x?sslmode=require",
            "postgresql://app:***@db:5432/x?sslmode=require",
            "s3cr@t",
            id="percent-encoded",
        ),
        pytest.param("https://u:p@api.example.com/v1", "https://u:***@api.example.com/v1", "p",
                     id="https"),
        pytest.param("postgresql://app@db/x", "postgresql://app@db/x", None, id="no-password"),
        pytest.param("postgresql://db/x", "postgresql://db/x", None, id="no-user"),
        pytest.param("postgresql://app:***@db/x", "postgresql://app:***@db/x", "***", id="masked"),
        pytest.param("http://u:s3cr@[::1", "***", None, id="not-a-url-is-masked-whole"),
    ],
)
def test_split_password(url: str, masked: str, password: str | None) -> None:
    split = split_password(url)
    assert (split.masked, split.password) == (masked, password)
    assert "s3cr" not in repr(split)


def test_with_password_round_trips_through_split() -> None:
    url = with_password("postgresql://app:***@db:5432/x", "p@ss:w/rd")
    assert url == "postgresql://app:p%40ss%3Aw%2Frd@db:5432/x"
    assert split_password(url).password == "p@ss:w/rd"
    assert with_password("postgresql://db/x", "pw") == "postgresql://:pw@db/x"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param("db.internal:5432", HostPort("db.internal", 5432), id="name"),
        pytest.param("[::1]:9000", HostPort("::1", 9000), id="v6"),
        pytest.param("db.internal", None, id="no-port"),
        pytest.param("db:0", None, id="port-0"),
        pytest.param("db:99999", None, id="port-range"),
        pytest.param("http://db:1", None, id="url"),
        pytest.param("u@db:1", None, id="userinfo"),
    ],
)
def test_parse_host_port(value: str, expected: HostPort | None) -> None:
    assert parse_host_port(value) == expected


@pytest.mark.parametrize(
    "value",
    [
        pytest.param("ftp://h/x", id="scheme"),
        pytest.param("http:///nohost", id="no-host"),
        pytest.param("http://h:bad/", id="bad-port"),
        pytest.param("http://h/x?password=Hunter2", id="secret-query"),
        pytest.param("http://u:Hunter2@h/", id="password"),
    ],
)
def test_http_url_refusals_do_not_echo(value: str) -> None:
    with pytest.raises(InvalidArgument) as caught:
        require_http_url("endpoint", value)
    assert [v.field for v in caught.value.violations] == ["endpoint"]
    assert "Hunter2" not in caught.value.message


def test_require_url_restricts_schemes() -> None:
    assert require_url("f", " postgres://h/db ", schemes=("postgres",)) == "postgres://h/db"
    with pytest.raises(InvalidArgument):
        require_url("f", "mysql://h/db", schemes=("postgresql", "postgres"))
