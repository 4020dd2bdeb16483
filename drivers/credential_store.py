"""SQL implementations of the credential vault's ports: `CredentialStore` (credentials and their
sealed secret versions) and `AccessLog` (reveal attempts), on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from drivers.batching import Batcher
from drivers.database import Database
from drivers.keyset import page_of
from drivers.tables.credentials import credential_access_events, credential_secrets, credentials
from engines.credential_crypto import Sealed
from engines.credential_vault import AccessEvent, AccessOutcome, SealedSecret, StoredCredential
from engines.errors import AlreadyExists
from engines.pagination import PageRequest

__all__ = ["SqlAccessLog", "SqlCredentialStore", "secret_from_row"]

_live = credentials.c.delete_time.is_(None)
# A credential joined to its current secret version.
_current = credentials.join(
    credential_secrets,
    sa.and_(
        credential_secrets.c.credential_id == credentials.c.id,
        credential_secrets.c.version == credentials.c.version,
    ),
)
_with_key_version = sa.select(credentials, credential_secrets.c.key_version).select_from(_current)


def _to_credential(row: Any) -> StoredCredential:
    return StoredCredential(
        id=row.id,
        tenant_id=row.tenant_id,
        name=row.name,
        version=row.version,
        key_version=row.key_version,
        expire_time=row.expire_time,
        metadata=dict(row.metadata or {}),
        created_by=row.created_by,
        create_time=row.create_time,
        update_time=row.update_time,
    )


def secret_from_row(row: Any) -> SealedSecret:
    """The engine value of one credential_secrets row."""
    return SealedSecret(
        tenant_id=row.tenant_id,
        credential_id=row.credential_id,
        version=row.version,
        sealed=Sealed(key_version=row.key_version, blob=bytes(row.sealed)),
        create_time=row.create_time,
    )


def _secret_values(secret: SealedSecret) -> dict[str, Any]:
    return {
        "credential_id": secret.credential_id,
        "version": secret.version,
        "tenant_id": secret.tenant_id,
        "key_version": secret.sealed.key_version,
        "sealed": secret.sealed.blob,
        "create_time": secret.create_time,
    }


def _credential_and_secret(row: Any) -> tuple[StoredCredential, SealedSecret]:
    secret = SealedSecret(
        tenant_id=row.tenant_id,
        credential_id=row.id,
        version=row.version,
        sealed=Sealed(key_version=row.key_version, blob=bytes(row.sealed)),
        create_time=row.update_time,
    )
    return _to_credential(row), secret


class SqlCredentialStore:
    """Credentials and sealed secret versions in the service's database.

    Reveals are hot: concurrent reads of current secrets are served by one query per batch."""

    def __init__(self, database: Database) -> None:
        self._db = database
        self._reads: Batcher[
            tuple[str, str], tuple[StoredCredential, SealedSecret] | None
        ] = Batcher(self._read_current)

    async def insert(
        self, credential: StoredCredential, secret: SealedSecret, request_id: str | None
    ) -> StoredCredential:
        try:
            async with self._db.transaction() as conn:
                await conn.execute(
                    credentials.insert().values(
                        id=credential.id,
                        tenant_id=credential.tenant_id,
                        name=credential.name,
                        version=credential.version,
                        expire_time=credential.expire_time,
                        metadata=dict(credential.metadata),
                        created_by=credential.created_by,
                        request_id=request_id,
                        create_time=credential.create_time,
                        update_time=credential.update_time,
                    )
                )
                await conn.execute(credential_secrets.insert().values(**_secret_values(secret)))
        except IntegrityError:
            if request_id is not None:
                earlier = await self.find_by_request_id(credential.tenant_id, request_id)
                if earlier is not None:
                    return earlier
            raise AlreadyExists("a credential with this name already exists for the tenant") from None
        return credential

    async def _one(self, *conditions: Any) -> StoredCredential | None:
        async with self._db.transaction() as conn:
            row = (await conn.execute(_with_key_version.where(*conditions))).first()
        return _to_credential(row) if row else None

    async def find_by_request_id(self, tenant_id: str, request_id: str) -> StoredCredential | None:
        # A revoked credential's secrets are gone; a retried create then finds nothing to join.
        return await self._one(
            credentials.c.tenant_id == tenant_id, credentials.c.request_id == request_id
        )

    async def get(self, tenant_id: str, credential_id: str) -> StoredCredential | None:
        return await self._one(
            credentials.c.tenant_id == tenant_id, credentials.c.id == credential_id, _live
        )

    async def current_secret(
        self, tenant_id: str, credential_id: str
    ) -> tuple[StoredCredential, SealedSecret] | None:
        return await self._reads.submit((tenant_id, credential_id))

    async def _read_current(
        self, keys: list[tuple[str, str]]
    ) -> list[tuple[StoredCredential, SealedSecret] | None]:
        """One query for every reveal waiting: the live credentials and their newest secrets."""
        query = (
            sa.select(credentials, credential_secrets.c.key_version, credential_secrets.c.sealed)
            .select_from(_current)
            .where(
                credentials.c.tenant_id.in_({tenant for tenant, _ in keys}),
                credentials.c.id.in_({credential_id for _, credential_id in keys}),
                _live,
            )
        )
        async with self._db.read() as conn:
            rows = (await conn.execute(query)).all()
        found = {(row.tenant_id, row.id): _credential_and_secret(row) for row in rows}
        return [found.get(key) for key in keys]

    async def list(
        self, tenant_id: str, page: PageRequest
    ) -> tuple[Sequence[StoredCredential], int]:
        conditions = [credentials.c.tenant_id == tenant_id, _live]
        async with self._db.transaction() as conn:
            rows = (
                await conn.execute(page_of(_with_key_version.where(*conditions), credentials, page))
            ).all()
            total = (
                await conn.execute(
                    sa.select(sa.func.count()).select_from(credentials).where(*conditions)
                )
            ).scalar_one()
        return [_to_credential(r) for r in rows], int(total)

    async def add_version(
        self, credential: StoredCredential, secret: SealedSecret, expected_version: int
    ) -> bool:
        async with self._db.transaction() as conn:
            result = await conn.execute(
                credentials.update()
                .where(
                    credentials.c.id == credential.id,
                    credentials.c.tenant_id == credential.tenant_id,
                    credentials.c.version == expected_version,
                    _live,
                )
                .values(
                    version=credential.version,
                    expire_time=credential.expire_time,
                    update_time=credential.update_time,
                )
            )
            if result.rowcount != 1:
                return False
            await conn.execute(credential_secrets.insert().values(**_secret_values(secret)))
        return True

    async def revoke(self, tenant_id: str, credential_id: str, when: datetime) -> bool:
        async with self._db.transaction() as conn:
            result = await conn.execute(
                credentials.update()
                .where(
                    credentials.c.id == credential_id,
                    credentials.c.tenant_id == tenant_id,
                    _live,
                )
                .values(delete_time=when, update_time=when)
            )
            if result.rowcount != 1:
                return False
            # Revocation destroys the ciphertexts: nothing is left that could ever be revealed.
            await conn.execute(
                credential_secrets.delete().where(
                    credential_secrets.c.credential_id == credential_id,
                    credential_secrets.c.tenant_id == tenant_id,
                )
            )
        return True

    async def secrets_to_rewrap(
        self, newest_key_version: int, after: tuple[str, int] | None, limit: int
    ) -> Sequence[SealedSecret]:
        query = sa.select(credential_secrets).where(
            credential_secrets.c.key_version != newest_key_version
        )
        if after is not None:
            after_id, after_version = after
            query = query.where(
                sa.or_(
                    credential_secrets.c.credential_id > after_id,
                    sa.and_(
                        credential_secrets.c.credential_id == after_id,
                        credential_secrets.c.version > after_version,
                    ),
                )
            )
        query = query.order_by(
            credential_secrets.c.credential_id, credential_secrets.c.version
        ).limit(limit)
        async with self._db.transaction() as conn:
            rows = (await conn.execute(query)).all()
        return [secret_from_row(r) for r in rows]

    async def replace_seal(self, secret: SealedSecret, sealed: Sealed) -> bool:
        async with self._db.transaction() as conn:
            result = await conn.execute(
                credential_secrets.update()
                .where(
                    credential_secrets.c.credential_id == secret.credential_id,
                    credential_secrets.c.tenant_id == secret.tenant_id,
                    credential_secrets.c.version == secret.version,
                    credential_secrets.c.key_version == secret.sealed.key_version,
                )
                .values(key_version=sealed.key_version, sealed=sealed.blob)
            )
        return result.rowcount == 1


def _to_event(row: Any) -> AccessEvent:
    return AccessEvent(
        id=row.id,
        tenant_id=row.tenant_id,
        credential_ref=row.credential_ref,
        credential_id=row.credential_id or "",
        caller=row.caller,
        outcome=AccessOutcome(row.outcome),
        access_reason=row.access_reason,
        detail=row.detail,
        requester_tenant_id=row.requester_tenant_id,
        create_time=row.create_time,
    )


def _event_values(event: AccessEvent) -> dict[str, Any]:
    return {
        "id": event.id,
        "tenant_id": event.tenant_id,
        "credential_id": event.credential_id or None,
        "credential_ref": event.credential_ref,
        "caller": event.caller,
        "outcome": event.outcome.value,
        "access_reason": event.access_reason,
        "detail": event.detail,
        "requester_tenant_id": event.requester_tenant_id,
        "create_time": event.create_time,
    }


class SqlAccessLog:
    """The access log of reveal attempts, append-only, in the service's database.

    Writes are group-committed: `record` returns once its event is committed, but events that
    arrive while a commit is in flight share the next one, so the log costs one transaction per
    batch of concurrent reveals instead of one per reveal."""

    def __init__(self, database: Database) -> None:
        self._db = database
        self._writes: Batcher[dict[str, Any], None] = Batcher(self._insert)

    async def record(self, event: AccessEvent) -> None:
        await self._writes.submit(_event_values(event))

    async def _insert(self, rows: list[dict[str, Any]]) -> list[None]:
        # executemany: one compiled statement whatever the batch size, one commit per batch.
        async with self._db.transaction() as conn:
            await conn.execute(credential_access_events.insert(), rows)
        return [None] * len(rows)

    async def list(
        self, tenant_id: str, credential_id: str | None, page: PageRequest
    ) -> tuple[Sequence[AccessEvent], int]:
        table = credential_access_events
        conditions = [table.c.tenant_id == tenant_id]
        if credential_id is not None:
            conditions.append(table.c.credential_id == credential_id)
        async with self._db.transaction() as conn:
            rows = (await conn.execute(page_of(sa.select(table).where(*conditions), table, page))).all()
            total = (
                await conn.execute(sa.select(sa.func.count()).select_from(table).where(*conditions))
            ).scalar_one()
        return [_to_event(r) for r in rows], int(total)
