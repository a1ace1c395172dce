"""Tables of the config service: only the outbox.

ConfigMaps and Secrets live in the cluster (etcd, Secrets encrypted at rest); the service keeps
no copy of them, so a Secret's value is never stored in the service's database.
"""

from __future__ import annotations

from sqlalchemy.orm import DeclarativeBase

from shared.events import OutboxMixin


class Base(DeclarativeBase):
    pass


class OutboxEvent(OutboxMixin, Base):
    pass
