"""Units, users, passwords, API tokens and the permission rules every other area asks."""

from __future__ import annotations

import hashlib
import re
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from publisher.accounts.models import ROLE_RANK, ROLES, ApiToken, Unit, User
from publisher.audit import record
from publisher.db import db, utcnow
from publisher.errors import Conflict, NotFound, PermissionDenied, ValidationFailed

ROOT_UNIT_NAME = "Liên đoàn Lao động tỉnh"
TOKEN_PREFIX = "loa_"
MIN_PASSWORD_LENGTH = 10
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")

_hasher = PasswordHasher()


# --- units -----------------------------------------------------------------------------------------------


def get_root_unit() -> Unit:
    """The top of the tree, created on first use so that a single-unit install needs no setup."""
    root = db.session.scalar(select(Unit).where(Unit.parent_id.is_(None)).order_by(Unit.id).limit(1))
    if root is None:
        root = Unit(name=ROOT_UNIT_NAME, parent_id=None, path="")
        db.session.add(root)
        db.session.flush()
        root.path = f"/{root.id}/"
        db.session.flush()
    return root


def get_unit(unit_id: int) -> Unit:
    unit = db.session.get(Unit, unit_id)
    if unit is None:
        raise NotFound(_l("No such organisation unit."))
    return unit


def _unit_name(name: object) -> str:
    return " ".join(name.split()) if isinstance(name, str) else ""


def create_unit(name: str, parent: Unit, actor: User | None = None) -> Unit:
    name = _unit_name(name)
    if not name:
        raise ValidationFailed({"name": _l("A name is required.")})
    if len(name) > 200:
        raise ValidationFailed({"name": _l("At most %(n)s characters.", n=200)})
    if actor is not None:
        require_role(actor, "admin", parent)
    unit = Unit(name=name, parent_id=parent.id, path="")
    db.session.add(unit)
    db.session.flush()
    unit.path = f"{parent.path}{unit.id}/"
    db.session.flush()
    record(actor, "unit.create", unit, name=name, parent_id=parent.id)
    return unit


def rename_unit(unit: Unit, name: str, actor: User) -> Unit:
    require_role(actor, "admin", unit)
    name = _unit_name(name)
    if not name:
        raise ValidationFailed({"name": _l("A name is required.")})
    old = unit.name
    unit.name = name[:200]
    record(actor, "unit.rename", unit, old=old, new=unit.name)
    return unit


def subtree_unit_ids(unit: Unit) -> list[int]:
    return list(db.session.scalars(select(Unit.id).where(Unit.path.startswith(unit.path, autoescape=True))))


def units_visible_to(user: User) -> list[Unit]:
    """The user's unit and every unit below it, in tree order."""
    return list(db.session.scalars(select(Unit).where(Unit.path.startswith(user.unit.path)).order_by(Unit.path)))


# --- permissions -----------------------------------------------------------------------------------------


def can_see_unit(user: User, unit_path: str) -> bool:
    """A user sees their own unit and every unit below it; nothing sideways or upwards."""
    return user.active and unit_path.startswith(user.unit.path)


def has_role_in(user: User, minimum: str, unit: Unit) -> bool:
    return can_see_unit(user, unit.path) and ROLE_RANK[user.role] >= ROLE_RANK[minimum]


def require_role(user: User, minimum: str, unit: Unit) -> None:
    """Raise NotFound for a unit out of the user's scope (it must not leak), PermissionDenied for a low role."""
    if not can_see_unit(user, unit.path):
        raise NotFound(_l("Not found."))
    if ROLE_RANK[user.role] < ROLE_RANK[minimum]:
        raise PermissionDenied(_l("Your role does not allow this."))


def visible_filter(user: User, unit_column):  # type: ignore[no-untyped-def]
    """A WHERE clause keeping rows whose unit is the user's or below it (``unit_column`` is a unit id column)."""
    return unit_column.in_(select(Unit.id).where(Unit.path.startswith(user.unit.path)))


# --- users -----------------------------------------------------------------------------------------------


def normalise_email(email: str) -> str:
    return (email or "").strip().lower()


def validate_password(password: str) -> None:
    if len(password or "") < MIN_PASSWORD_LENGTH:
        raise ValidationFailed({"password": _l("Use at least %(n)s characters.", n=MIN_PASSWORD_LENGTH)})


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def create_user(
    email: str,
    role: str,
    unit: Unit | None = None,
    *,
    name: str = "",
    password: str | None = None,
    locale: str = "vi",
    actor: User | None = None,
) -> User:
    email = normalise_email(email)
    problems: dict[str, object] = {}
    if not EMAIL_RE.match(email):
        problems["email"] = _l("Enter a valid e-mail address.")
    if role not in ROLES:
        problems["role"] = _l("Choose one of: %(roles)s.", roles=", ".join(ROLES))
    if locale not in ("vi", "en"):
        problems["locale"] = _l("Choose vi or en.")
    if password is not None and len(password) < MIN_PASSWORD_LENGTH:
        problems["password"] = _l("Use at least %(n)s characters.", n=MIN_PASSWORD_LENGTH)
    if problems:
        raise ValidationFailed(problems)
    unit = unit or get_root_unit()
    if actor is not None:
        require_role(actor, "admin", unit)
    if db.session.scalar(select(func.count()).select_from(User).where(User.email == email)):
        raise Conflict(_l("A user with this e-mail address already exists."), code="duplicate_email")
    user = User(
        email=email,
        role=role,
        unit_id=unit.id,
        unit=unit,
        name=(name or "").strip(),
        locale=locale,
        password_hash=hash_password(password) if password else None,
        active=True,
    )
    db.session.add(user)
    db.session.flush()
    record(actor, "user.create", user, email=email, role=role, unit_id=unit.id)
    return user


def update_user(
    user: User,
    actor: User,
    *,
    name: str | None = None,
    role: str | None = None,
    unit: Unit | None = None,
    active: bool | None = None,
) -> User:
    require_role(actor, "admin", user.unit)
    changes: dict[str, object] = {}
    if role is not None and role != user.role:
        if role not in ROLES:
            raise ValidationFailed({"role": _l("Choose one of: %(roles)s.", roles=", ".join(ROLES))})
        changes["role"] = [user.role, role]
        user.role = role
    if unit is not None and unit.id != user.unit_id:
        require_role(actor, "admin", unit)
        changes["unit_id"] = [user.unit_id, unit.id]
        user.unit_id, user.unit = unit.id, unit
    if name is not None and name.strip() != user.name:
        changes["name"] = [user.name, name.strip()]
        user.name = name.strip()
    if active is not None and active != user.active:
        if not active and user.id == actor.id:
            raise Conflict(_l("You cannot deactivate yourself."))
        changes["active"] = [user.active, active]
        user.active = active
        user.session_epoch += 1
        if not active:
            for token in user_tokens(user):
                if token.revoked_at is None:
                    token.revoked_at = utcnow()
    if changes:
        record(actor, "user.update", user, **changes)
    return user


def set_password(user: User, password: str, actor: User | None = None) -> None:
    validate_password(password)
    user.password_hash = hash_password(password)
    user.session_epoch += 1
    record(actor or user, "user.password", user)


def change_password(user: User, current: str, new: str) -> None:
    if not check_password(user, current):
        raise ValidationFailed({"current_password": _l("The current password is not correct.")})
    set_password(user, new, actor=user)


def check_password(user: User, password: str) -> bool:
    if not user.password_hash or not password:
        return False
    try:
        ok = _hasher.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        return False
    if ok and _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
    return ok


def authenticate(email: str, password: str) -> User | None:
    """The active user with that e-mail and password, or None (same answer for every kind of mismatch)."""
    user = db.session.scalar(select(User).where(User.email == normalise_email(email)))
    if user is None:
        # Spend the same time as a real check so that timing does not reveal which e-mails exist.
        _hasher.hash(password or "x")
        return None
    if not check_password(user, password) or not user.active:
        return None
    user.last_login_at = utcnow()
    return user


def get_user(user_id: int) -> User:
    user = db.session.get(User, user_id)
    if user is None:
        raise NotFound(_l("No such user."))
    return user


def find_user_by_email(email: str) -> User | None:
    return db.session.scalar(select(User).where(User.email == normalise_email(email)))


def count_users() -> int:
    return db.session.scalar(select(func.count()).select_from(User)) or 0


# --- API tokens ------------------------------------------------------------------------------------------


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def create_api_token(user: User, name: str = "") -> tuple[str, ApiToken]:
    """A new token for ``user``: returns the token (shown once) and its stored row."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = ApiToken(user_id=user.id, user=user, digest=_digest(token), prefix=token[: len(TOKEN_PREFIX) + 6], name=name)
    db.session.add(row)
    db.session.flush()
    record(user, "token.create", row)
    return token, row


def user_for_token(token: str) -> User | None:
    """The active user a token belongs to, or None when it is unknown, revoked or the user is inactive."""
    if not token or len(token) > 200:
        return None
    row = db.session.scalar(select(ApiToken).where(ApiToken.digest == _digest(token)))
    if row is None or row.revoked_at is not None or not row.user.active:
        return None
    now = utcnow()
    if row.last_used_at is None or (now - row.last_used_at).total_seconds() > 60:
        row.last_used_at = now
    return row.user


def user_tokens(user: User) -> list[ApiToken]:
    return list(db.session.scalars(select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.id)))


def revoke_api_token(row: ApiToken, actor: User) -> None:
    if row.user_id != actor.id:
        require_role(actor, "admin", row.user.unit)
    if row.revoked_at is None:
        row.revoked_at = utcnow()
        record(actor, "token.revoke", row)
