"""SQLAlchemy Core tables of the service's own database, one module per resource family.

Importing this package registers every table on `metadata` (Alembic migrations are hand-written
in `drivers/migrations/versions/`; a test checks they match these tables)."""

import drivers.tables.connectors_data_sources  # noqa: F401  (connectors, data sources)
from drivers.tables import (
    admission,  # noqa: F401  (reservations, admission policies)
    credentials,  # noqa: F401  (credential service)
    data_keys,  # noqa: F401  (envelope encryption under OpenBao)
    health,  # noqa: F401  (health history)
    integrations,  # noqa: F401  (registers tables)
    prevention,  # noqa: F401  (registers tables)
    sql_gateway,  # noqa: F401  (registers tables)
)
from drivers.tables.base import metadata

__all__ = ["metadata"]
