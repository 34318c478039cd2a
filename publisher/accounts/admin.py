"""Read helpers for the administration pages: the unit tree and the users an admin manages."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from publisher.accounts.models import Unit, User
from publisher.accounts.services import units_visible_to, visible_filter
from publisher.db import db


@dataclass
class UnitNode:
    unit: Unit
    children: list[UnitNode] = field(default_factory=list)


def unit_tree(user: User) -> list[UnitNode]:
    """The units the user sees, as a forest rooted at the user's own unit (one query)."""
    units = units_visible_to(user)
    nodes = {u.id: UnitNode(u) for u in units}
    roots: list[UnitNode] = []
    for unit in units:
        parent = nodes.get(unit.parent_id) if unit.parent_id is not None else None
        (parent.children if parent is not None else roots).append(nodes[unit.id])
    for node in nodes.values():
        node.children.sort(key=lambda n: n.unit.name.lower())
    return roots


def unit_choices(user: User) -> list[tuple[int, str]]:
    """(id, indented name) of every unit the user sees, in tree order, for a select box."""
    units = units_visible_to(user)
    base = user.unit.depth
    return [(u.id, "— " * (u.depth - base) + u.name) for u in units]


def managed_users(user: User) -> list[User]:
    query = select(User).where(visible_filter(user, User.unit_id)).options(joinedload(User.unit))
    return list(db.session.scalars(query.order_by(User.active.desc(), User.email)).unique())
