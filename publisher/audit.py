"""The audit log: who did what to which object, and when. Services write it; nothing ever updates it."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import ForeignKey, Index, String, select
from sqlalchemy.orm import Mapped, mapped_column

from publisher.db import JSONType, db, utcnow

if TYPE_CHECKING:
    from publisher.accounts.models import User


class AuditEntry(db.Model):
    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_object", "object_type", "object_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id", ondelete="SET NULL"), index=True)
    action: Mapped[str] = mapped_column(String(60))
    object_type: Mapped[str] = mapped_column(String(60))
    object_id: Mapped[int | None]
    details: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)

    def __repr__(self) -> str:
        return f"<AuditEntry {self.id} {self.action} {self.object_type}:{self.object_id}>"


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, str):
        return value.replace("\x00", "")  # PostgreSQL's JSONB cannot hold NUL
    if value is None or isinstance(value, (int, float, bool)):
        return value
    return str(value)


def record(actor: User | None, action: str, obj: Any, **details: Any) -> AuditEntry:
    """Add one audit entry (flushed with the caller's unit of work, never committed here)."""
    unit_id = getattr(obj, "unit_id", None)
    if unit_id is None and obj.__class__.__name__ == "Unit":
        unit_id = obj.id
    entry = AuditEntry(
        user_id=actor.id if actor is not None else None,
        unit_id=unit_id,
        action=action,
        object_type=obj.__class__.__tablename__ if hasattr(obj, "__tablename__") else obj.__class__.__name__,
        object_id=getattr(obj, "id", None),
        details=_jsonable(details),
    )
    db.session.add(entry)
    return entry


def entries_for(object_type: str, object_id: int) -> list[AuditEntry]:
    return list(
        db.session.scalars(
            select(AuditEntry)
            .where(AuditEntry.object_type == object_type, AuditEntry.object_id == object_id)
            .order_by(AuditEntry.at, AuditEntry.id)
        )
    )
