"""A data source's connection settings: what is stored (no secrets, only refs and a masked
connection string), what callers send (secrets included, input only), and the check that turns
one into the other, splitting out the secrets to be stored in the credential service."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from engines.connectors.connection_tester import timeout_of
from engines.credentials.secret_keys import secret_key_violations
from engines.egress.endpoints import MASK, require_http_url, require_url, split_password
from engines.kernel.errors import FieldViolation, InvalidArgument
from engines.kernel.violations import collect

__all__ = [
    "AUTH_TYPES",
    "ConnectionInput",
    "ConnectionSettings",
    "DataSourceType",
    "SettingsPlan",
    "plan_settings",
]

AUTH_TYPES = ("", "none", "bearer", "header")
# `auth_header` names the header an API key is sent in; its value is a header name, not a secret.
_NON_SECRET_OPTIONS = ("auth_header",)


class DataSourceType(enum.StrEnum):
    DATABASE = "database"
    DOCUMENT = "document"
    FILE = "file"
    VECTOR = "vector"
    API = "api"
    STREAM = "stream"
    CUSTOM = "custom"


_SCHEMES: Mapping[DataSourceType, tuple[str, ...]] = {
    DataSourceType.DATABASE: ("postgresql", "postgres"),
    DataSourceType.API: ("http", "https"),
}


@dataclass(frozen=True, slots=True)
class ConnectionSettings:
    """How to reach a data source, as stored: never a secret, only refs to them."""

    connection_string: str = ""  # the password, if any, is MASK
    host: str = ""
    port: int = 0
    username: str = ""
    database: str = ""
    auth_type: str = ""
    ssl_enabled: bool = False
    ssl_verify: bool = False
    pool_size: int = 0
    pool_timeout_seconds: int = 0
    max_retries: int = 0
    options: Mapping[str, Any] = field(default_factory=dict)
    password_ref: str = ""
    api_key_ref: str = ""

    @property
    def password_set(self) -> bool:
        return bool(self.password_ref)

    @property
    def api_key_set(self) -> bool:
        return bool(self.api_key_ref)


@dataclass(frozen=True, slots=True)
class ConnectionInput:
    """Settings as a caller sends them: `settings` (refs ignored) plus the input-only secrets."""

    settings: ConnectionSettings = field(default_factory=ConnectionSettings)
    password: str = ""
    api_key: str = ""
    clear_password: bool = False  # on update: remove the stored password
    clear_api_key: bool = False  # on update: remove the stored API key

    def __repr__(self) -> str:  # never print a secret, even in a traceback
        return f"ConnectionInput(settings={self.settings!r}, password='***', api_key='***')"


@dataclass(frozen=True, slots=True)
class SettingsPlan:
    """Checked settings (refs kept from before) and the new secrets still to be stored."""

    settings: ConnectionSettings
    new_password: str | None
    new_api_key: str | None
    clear_password: bool = False
    clear_api_key: bool = False

    @property
    def replaces_password(self) -> bool:
        """Whether the stored password ref gives way (to a new secret, or to none)."""
        return bool(self.new_password) or self.clear_password

    @property
    def replaces_api_key(self) -> bool:
        return bool(self.new_api_key) or self.clear_api_key

    def __repr__(self) -> str:
        return f"SettingsPlan(settings={self.settings!r}, new_password='***', new_api_key='***')"


def _bounded(
    violations: list[FieldViolation], name: str, value: int, low: int, high: int
) -> None:
    if not low <= value <= high:
        violations.append(FieldViolation(name, f"must be between {low} and {high}"))


def _text(violations: list[FieldViolation], name: str, value: str, limit: int) -> str:
    value = value.strip()
    if len(value) > limit:
        violations.append(FieldViolation(name, f"must be at most {limit} characters"))
    elif any(ord(c) < 32 or c.isspace() and c != " " for c in value):
        violations.append(FieldViolation(name, "must not contain control characters"))
    return value


def plan_settings(
    prefix: str,
    source_type: DataSourceType,
    given: ConnectionInput,
    previous: ConnectionSettings | None = None,
) -> SettingsPlan:
    """Checks `given` for a source of `source_type`, every violation at once; masks the
    connection string and splits out its password. Secrets not sent again keep the refs of
    `previous`. Messages never repeat a value that may be secret."""
    violations: list[FieldViolation] = []
    s = given.settings
    name = f"{prefix}.config"
    connection_string = s.connection_string.strip()
    masked, url_password = "", None
    if connection_string:
        url = collect(
            violations,
            lambda: require_url(
                f"{name}.connection_string", connection_string, schemes=_SCHEMES.get(source_type)
            ),
        )
        if url:
            split = split_password(url)
            masked, url_password = split.masked, split.password

    password = given.password
    if url_password is not None and url_password != MASK:
        if password and password != url_password:
            violations.append(
                FieldViolation(
                    f"{name}.password",
                    "differs from the password in connection_string; send only one of them",
                )
            )
        password = url_password
    if given.clear_password and password:
        violations.append(
            FieldViolation(f"{name}.clear_password", "cannot be set together with a new password")
        )
    if given.clear_api_key and given.api_key:
        violations.append(
            FieldViolation(f"{name}.clear_api_key", "cannot be set together with a new api_key")
        )
    keep = previous is not None and not password and not given.clear_password
    kept_password = previous.password_ref if previous is not None and keep else ""
    if url_password == MASK and given.clear_password:
        violations.append(
            FieldViolation(
                f"{name}.connection_string",
                f"carries the mask {MASK} of the password that clear_password removes; "
                "send the connection string without a password",
            )
        )
    elif url_password == MASK and not password and not kept_password:
        violations.append(
            FieldViolation(
                f"{name}.connection_string",
                f"carries the mask {MASK} but no password is stored; send the real password",
            )
        )

    host = _text(violations, f"{name}.host", s.host, 255)
    if "/" in host or " " in host:
        violations.append(FieldViolation(f"{name}.host", "must be a host name or address"))
    _bounded(violations, f"{name}.port", s.port, 0, 65535)
    _bounded(violations, f"{name}.pool_size", s.pool_size, 0, 100)
    _bounded(violations, f"{name}.pool_timeout_seconds", s.pool_timeout_seconds, 0, 300)
    _bounded(violations, f"{name}.max_retries", s.max_retries, 0, 10)
    username = _text(violations, f"{name}.username", s.username, 128)
    database = _text(violations, f"{name}.database", s.database, 128)
    auth_type = s.auth_type.strip().lower()
    if auth_type not in AUTH_TYPES:
        violations.append(
            FieldViolation(f"{name}.auth_type", f"must be one of: {', '.join(AUTH_TYPES[1:])}")
        )
    options = dict(s.options)
    violations.extend(
        secret_key_violations(f"{name}.options", options, allowed=_NON_SECRET_OPTIONS)
    )
    if "url" in options:
        url_option = options["url"]
        if not isinstance(url_option, str):
            violations.append(FieldViolation(f"{name}.options.url", "must be an http(s) URL"))
        else:
            collect(violations, require_http_url, f"{name}.options.url", url_option)
    collect(
        violations, timeout_of, f"{name}.options.timeout_seconds", options.get("timeout_seconds")
    )
    if source_type is DataSourceType.DATABASE and not (connection_string or host):
        violations.append(
            FieldViolation(f"{name}.host", "DATABASE sources need connection_string or host")
        )
    if source_type is DataSourceType.API and not (connection_string or options.get("url")):
        violations.append(
            FieldViolation(f"{name}.options.url", "API sources need options.url or connection_string")
        )
    if violations:
        raise InvalidArgument(violations)
    settings = replace(
        s,
        connection_string=masked,
        host=host,
        username=username,
        database=database,
        auth_type=auth_type,
        options=options,
        password_ref=kept_password,
        api_key_ref=previous.api_key_ref
        if previous and not given.api_key and not given.clear_api_key
        else "",
    )
    return SettingsPlan(
        settings,
        password or None,
        given.api_key or None,
        clear_password=given.clear_password,
        clear_api_key=given.clear_api_key,
    )
