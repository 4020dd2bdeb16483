"""Settings of `integrations-service serve`, each settable by flag or environment variable."""

from __future__ import annotations

from dataclasses import dataclass, field

from drivers.credentials.openbao_client import OpenBaoSettings
from drivers.kernel.database import DEFAULT_DATABASE_URL
from engines.credentials.env_credentials import DEFAULT_ENV_PREFIXES
from engines.health.checks import HealthSettings

__all__ = ["ServeConfig"]


@dataclass(frozen=True, slots=True)
class ServeConfig:
    """Everything the composition root needs to build and run the server."""

    listen: str = "127.0.0.1:50051"
    database_url: str = DEFAULT_DATABASE_URL
    apply_migrations: bool = True
    grace_seconds: float = 10.0
    max_message_bytes: int = 4 * 1024 * 1024
    readiness_interval_seconds: float = 2.0
    # SQL gateway: connection pools to tenant databases.
    sql_pool_size: int = 10
    sql_max_pools: int = 32
    sql_pool_idle_seconds: float = 300.0
    # How long the gateway reuses a revealed connection string (0: reveal on every query).
    sql_credential_cache_seconds: float = 30.0
    # How long another replica's commit may go unseen in the integration cache while no
    # LISTEN/NOTIFY connection is up (docs/consistency.md); 0: every read goes to the database.
    integration_cache_seconds: float = 2.0
    # The same bound for ExecuteQuery's cached gateway and template reads.
    sql_gateway_cache_seconds: float = 2.0
    # How often watchers of limit events poll when no notification wakes them.
    limit_event_poll_seconds: float = 2.0
    # Webhook delivery of limit events (docs/admission.md, "Webhooks").
    webhook_max_attempts: int = 12
    webhook_backoff_seconds: float = 10.0
    webhook_timeout_seconds: float = 10.0
    # -- credential service and caller authentication (see docs/credentials.md) --
    callers_file: str | None = None
    tls_cert: str | None = None
    tls_key: str | None = None
    tls_client_ca: str | None = None
    master_keys: str | None = field(default=None, repr=False)  # CREDENTIAL_MASTER_KEYS
    master_key_file: str | None = None
    # Master key versions below this are retired: what they seal is refused until rewrapped.
    min_key_version: int = 0
    kms: str = "local"  # "openbao": envelope encryption under OpenBao transit (docs/openbao.md)
    openbao: OpenBaoSettings = OpenBaoSettings()
    # "openbao": values of cus-vault:// credentials in OpenBao KV v2 (docs/openbao.md) under
    # `secret_store_mount`; "local": sealed in the service's database.
    secret_store: str = "local"
    secret_store_mount: str = "secret"
    production: bool = False
    allow_env_credentials: bool = False
    env_credential_prefixes: tuple[str, ...] = DEFAULT_ENV_PREFIXES  # names env:// may resolve
    only: str | None = None  # "credentials": serve the credential service alone
    credentials_target: str | None = None  # HOST:PORT of a remote credential service
    credentials_token: str | None = field(default=None, repr=False)
    credentials_tls_ca: str | None = None  # TLS to the remote credential service
    credentials_tls_cert: str | None = None  # with _key: a client certificate (mutual TLS)
    credentials_tls_key: str | None = None
    # Health checks.
    health: HealthSettings = HealthSettings()
    # -- egress policy (see docs/egress.md): CIDR, HOST, HOST:PORT or CIDR:PORT rules --
    egress_allow: tuple[str, ...] = ()
    egress_deny: tuple[str, ...] = ()
    # -- metrics (see docs/metrics.md) --
    metrics_listen: str | None = None  # HOST:PORT of the Prometheus endpoint; None: off
