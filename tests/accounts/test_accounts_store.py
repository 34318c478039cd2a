"""The store of units, users and API tokens, and the permission rules built on the units tree."""

from __future__ import annotations

import hashlib

import pytest
from sqlalchemy import select

from publisher.accounts.models import ApiToken, Unit, User
from publisher.accounts.services import (
    authenticate,
    can_see_unit,
    change_password,
    check_password,
    create_api_token,
    create_unit,
    create_user,
    get_root_unit,
    has_role_in,
    rename_unit,
    require_role,
    revoke_api_token,
    subtree_unit_ids,
    units_visible_to,
    update_user,
    user_for_token,
    visible_filter,
)
from publisher.audit import AuditEntry
from publisher.db import db
from publisher.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from tests.conftest import PASSWORD


@pytest.fixture
def tree(root_unit, make_unit):  # type: ignore[no-untyped-def]
    """province -> district A -> grassroots A1; province -> district B (a sibling of A)."""
    a = make_unit("LĐLĐ huyện A")
    a1 = make_unit("CĐCS Công ty A1", parent=a)
    b = make_unit("LĐLĐ huyện B")
    return {"root": root_unit, "a": a, "a1": a1, "b": b}


# --- units ---------------------------------------------------------------------------------------------------


def test_single_unit_install_has_one_root_unit(app) -> None:  # type: ignore[no-untyped-def]
    root = get_root_unit()
    assert get_root_unit().id == root.id
    assert root.parent_id is None and root.path == f"/{root.id}/"
    assert db.session.scalar(select(db.func.count()).select_from(Unit)) == 1


def test_units_tree_uses_a_materialised_path(tree) -> None:  # type: ignore[no-untyped-def]
    root, a, a1, b = tree["root"], tree["a"], tree["a1"], tree["b"]
    assert a.path == f"/{root.id}/{a.id}/"
    assert a1.path == f"/{root.id}/{a.id}/{a1.id}/"
    assert (root.depth, a.depth, a1.depth) == (0, 1, 2)
    assert a1.is_within(a) and a1.is_within(root) and not a1.is_within(b) and not a.is_within(a1)
    assert set(subtree_unit_ids(a)) == {a.id, a1.id}
    assert set(subtree_unit_ids(root)) == {root.id, a.id, a1.id, b.id}


def test_unit_ids_sharing_a_prefix_stay_apart(root_unit, make_unit) -> None:  # type: ignore[no-untyped-def]
    units = [make_unit(f"Đơn vị {n}") for n in range(12)]
    first = units[0]  # e.g. id 2, whose path /1/2/ must not match /1/12/
    assert set(subtree_unit_ids(first)) == {first.id}


def test_unit_names_are_validated_and_only_admins_create_units(tree, make_user) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValidationFailed) as caught:
        create_unit("   ", tree["root"])
    assert "name" in caught.value.fields
    with pytest.raises(ValidationFailed):
        create_unit("x" * 201, tree["root"])
    editor = make_user("editor", unit=tree["a"])
    with pytest.raises(PermissionDenied):
        create_unit("Mới", tree["a"], actor=editor)
    admin_a = make_user("admin", unit=tree["a"])
    with pytest.raises(NotFound):
        create_unit("Mới", tree["b"], actor=admin_a)
    unit = create_unit("CĐCS mới", tree["a"], actor=admin_a)
    assert unit.path.startswith(tree["a"].path)
    rename_unit(unit, "CĐCS đổi tên", admin_a)
    assert unit.name == "CĐCS đổi tên"


# --- users ---------------------------------------------------------------------------------------------------


def test_user_has_an_argon2_hash_and_an_active_flag(root_unit) -> None:  # type: ignore[no-untyped-def]
    user = create_user(" Nguyen.Van.A@LDLD.test ", "editor", root_unit, password=PASSWORD, name="Nguyễn Văn A")
    db.session.commit()
    assert user.email == "nguyen.van.a@ldld.test"
    assert user.password_hash.startswith("$argon2id$") and PASSWORD not in user.password_hash
    assert user.active and user.locale == "vi" and user.unit_id == root_unit.id
    assert check_password(user, PASSWORD) and not check_password(user, PASSWORD + "x")
    assert authenticate("NGUYEN.VAN.A@ldld.test", PASSWORD).id == user.id
    assert authenticate("nguyen.van.a@ldld.test", "wrong password") is None
    assert authenticate("nobody@ldld.test", PASSWORD) is None
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "user.create"))
    assert entry.object_id == user.id


@pytest.mark.parametrize(("kwargs", "field"), [
    ({"email": "no-at-sign", "role": "editor"}, "email"),
    ({"email": "a@ldld.test", "role": "boss"}, "role"),
    ({"email": "a@ldld.test", "role": "editor", "password": "short"}, "password"),
    ({"email": "a@ldld.test", "role": "editor", "locale": "fr"}, "locale"),
])
def test_user_fields_are_validated(root_unit, kwargs, field) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValidationFailed) as caught:
        create_user(kwargs.pop("email"), kwargs.pop("role"), root_unit, **kwargs)
    assert field in caught.value.fields


def test_duplicate_email_is_a_conflict(make_user, root_unit) -> None:  # type: ignore[no-untyped-def]
    make_user("editor", email="same@ldld.test")
    with pytest.raises(Conflict):
        create_user("SAME@ldld.test", "viewer", root_unit)


def test_deactivation_refuses_sign_in_and_revokes_tokens(make_user, make_token) -> None:  # type: ignore[no-untyped-def]
    admin = make_user("admin")
    user = make_user("editor")
    token = make_token(user)
    epoch = user.session_epoch
    assert user_for_token(token).id == user.id
    update_user(user, admin, active=False)
    db.session.commit()
    assert not user.active and user.session_epoch == epoch + 1
    assert all(row.revoked_at is not None for row in db.session.scalars(select(ApiToken)
                                                                        .where(ApiToken.user_id == user.id)))
    assert user_for_token(token) is None
    assert authenticate(user.email, PASSWORD) is None
    with pytest.raises(Conflict):
        update_user(admin, admin, active=False)


def test_password_change_needs_the_current_one(make_user) -> None:  # type: ignore[no-untyped-def]
    user = make_user("editor")
    with pytest.raises(ValidationFailed):
        change_password(user, "not the current one", "mat-khau-moi-rat-dai")
    change_password(user, PASSWORD, "mat-khau-moi-rat-dai")
    assert check_password(user, "mat-khau-moi-rat-dai")


# --- tokens --------------------------------------------------------------------------------------------------


def test_tokens_are_stored_hashed_and_revocable(make_user) -> None:  # type: ignore[no-untyped-def]
    user = make_user("editor")
    token, row = create_api_token(user, "máy tính bảng")
    db.session.commit()
    assert token.startswith("loa_") and len(token) > 40
    assert row.digest == hashlib.sha256(token.encode()).hexdigest()
    stored = db.session.execute(select(ApiToken.__table__)).mappings().one()
    assert all(token not in str(value) for value in stored.values())
    assert user_for_token(token).id == user.id
    assert user_for_token(token + "x") is None and user_for_token("") is None and user_for_token("x" * 500) is None
    other = make_user("editor")
    with pytest.raises(PermissionDenied):
        revoke_api_token(row, other)
    revoke_api_token(row, user)
    db.session.commit()
    assert user_for_token(token) is None


# --- permissions ---------------------------------------------------------------------------------------------


def test_a_role_applies_in_the_users_unit_and_below(tree, make_user) -> None:  # type: ignore[no-untyped-def]
    editor_a = make_user("editor", unit=tree["a"])
    assert can_see_unit(editor_a, tree["a"].path) and can_see_unit(editor_a, tree["a1"].path)
    assert not can_see_unit(editor_a, tree["b"].path) and not can_see_unit(editor_a, tree["root"].path)
    assert has_role_in(editor_a, "editor", tree["a1"]) and not has_role_in(editor_a, "approver", tree["a1"])
    require_role(editor_a, "editor", tree["a1"])
    with pytest.raises(PermissionDenied):
        require_role(editor_a, "approver", tree["a"])
    for out_of_scope in (tree["b"], tree["root"]):
        with pytest.raises(NotFound):  # sideways and upwards do not even exist for this user
            require_role(editor_a, "viewer", out_of_scope)
    assert [u.id for u in units_visible_to(editor_a)] == [tree["a"].id, tree["a1"].id]
    visible = set(db.session.scalars(select(Unit.id).where(visible_filter(editor_a, Unit.id))))
    assert visible == {tree["a"].id, tree["a1"].id}
    editor_a.active = False
    assert not can_see_unit(editor_a, tree["a"].path)


def test_roles_are_ordered(tree, make_user) -> None:  # type: ignore[no-untyped-def]
    ranks = {role: make_user(role, unit=tree["a"]) for role in ("viewer", "editor", "approver", "admin")}
    assert ranks["admin"].has_role("approver") and ranks["approver"].has_role("editor")
    assert ranks["editor"].has_role("viewer") and not ranks["viewer"].has_role("editor")
    assert isinstance(ranks["viewer"], User)
