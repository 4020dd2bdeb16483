"""SQLAlchemy Core tables of the service's own database, one module per resource family.

Importing this package registers every table on `metadata` (Alembic migrations are hand-written
in `drivers/migrations/versions/`; a test checks they match these tables)."""

import drivers.tables.health  # noqa: F401  (issue 4: health history)
from drivers.tables import integrations  # noqa: F401  (registers tables)
from drivers.tables.base import metadata

__all__ = ["metadata"]
