from __future__ import annotations

from flask import jsonify
from flask_babel import gettext as _

from publisher.accounts.services import create_unit, get_unit, units_visible_to
from publisher.db import is_id
from publisher.errors import NotFound, ValidationFailed
from web.api import api_user, bp, json_body
from web.api.serializers import unit_json


@bp.get("/units")
def list_units():  # type: ignore[no-untyped-def]
    return jsonify({"units": [unit_json(u) for u in units_visible_to(api_user())]})


@bp.post("/units")
def post_unit():  # type: ignore[no-untyped-def]
    data = json_body()
    parent_id = data.get("parent_id")
    if not is_id(parent_id):
        raise ValidationFailed({"parent_id": _("The parent unit's id is required.")})
    try:
        parent = get_unit(parent_id)
    except NotFound:
        raise ValidationFailed({"parent_id": _("No such organisation unit.")}) from None
    unit = create_unit(data.get("name", ""), parent, actor=api_user())
    response = jsonify(unit_json(unit))
    response.status_code = 201
    return response


@bp.get("/units/<int:unit_id>")
def show_unit(unit_id: int):  # type: ignore[no-untyped-def]
    unit = get_unit(unit_id)
    if not unit.path.startswith(api_user().unit.path):
        raise NotFound(_("No such organisation unit."))
    return jsonify(unit_json(unit))
