"""Tenancy by construction: one helper resolves estate + membership from the URL.

Estate-scoped blueprints are made with `estate_blueprint()`; their URLs start with
`/e/<estate_slug>/`, the slug is taken out of the view arguments and replaced by
`g.estate` and `g.membership` before any view runs. A user without a membership in
the estate gets a 404 (never a 403 that confirms the estate exists).
"""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, Flask, current_app, g, session
from flask_login import current_user, login_required
from sqlalchemy.orm import joinedload

from portal.errors import Forbidden, NotFound
from portal.estates.access import EstateAccess
from portal.extensions import db
from portal.models import Estate, Membership, Role


class EstateUnavailable(Exception):
    """The estate is PENDING or SUSPENDED; only enterprise admins may enter."""

    def __init__(self, estate: Estate):
        super().__init__(estate.slug)
        self.estate = estate


def resolve_estate(slug: str, role: Role | None = None) -> EstateAccess:
    """Estate + the signed-in user's membership in it, or NotFound/Forbidden/EstateUnavailable."""
    estate = db.session.scalar(sa.select(Estate).where(Estate.slug == slug))
    if estate is None:
        raise NotFound()
    memberships = tuple(
        db.session.scalars(
            sa.select(Membership).where(
                Membership.estate_id == estate.id, Membership.user_id == current_user.id
            )
        )
    )
    user = current_user._get_current_object()
    if current_user.is_enterprise_admin:
        return EstateAccess(estate, memberships, as_enterprise_admin=True, user=user)
    if not memberships:
        raise NotFound()
    if not estate.is_open:
        raise EstateUnavailable(estate)
    access = EstateAccess(estate, memberships, as_enterprise_admin=False, user=user)
    if role is not None and role not in access.roles:
        raise Forbidden()
    return access


def estate_blueprint(name: str, import_name: str, role: Role) -> Blueprint:
    bp = Blueprint(name, import_name)

    @bp.url_value_preprocessor
    def pull_estate_slug(endpoint, values):
        g.estate_slug = values.pop("estate_slug", None) if values else None

    @bp.before_request
    @login_required
    def load_estate():
        access = resolve_estate(g.estate_slug, role)
        g.estate = access.estate
        g.access = access
        g.membership = access.membership_for(role)
        remember_area(name, access.estate.slug)

    return bp


AREA_ROLES = {"admin": Role.ESTATE_ADMIN, "gate": Role.GUARD, "resident": Role.RESIDENT}


def remember_area(area: str, slug: str) -> None:
    """Note the estate area the user is in, so that the pages outside it (profile,
    notifications) keep its name, colour, menu and time zone."""
    value = f"{area}:{slug}"
    if session.get("last_area") != value:
        session["last_area"] = value


def load_last_area(user) -> None:
    """On a page outside any estate: g.estate and g.context_area from the area the user was
    last in, if they still belong there and it is open (else nothing)."""
    area, _sep, slug = (session.get("last_area") or "").partition(":")
    role = AREA_ROLES.get(area)
    if role is None or not slug:
        return
    memberships = g.get("_switcher")
    if memberships is None:
        memberships = g._switcher = user_memberships(user)
    for membership in memberships:
        if membership.estate.slug == slug and membership.estate.is_open and \
                (membership.role == role or user.is_enterprise_admin):
            g.estate = membership.estate
            g.context_area = area
            return


def user_memberships(user) -> list[Membership]:
    """All memberships of a user with their estates, in one query (switcher, chooser)."""
    return list(
        db.session.scalars(
            sa.select(Membership)
            .options(joinedload(Membership.estate))
            .join(Estate)
            .where(Membership.user_id == user.id)
            .order_by(Estate.name, Membership.role)
        )
    )


def init_app(app: Flask) -> None:
    @app.url_defaults
    def add_estate_slug(endpoint, values):
        estate = g.get("estate")
        if estate is None or "estate_slug" in values:
            return
        if current_app.url_map.is_endpoint_expecting(endpoint, "estate_slug"):
            values["estate_slug"] = estate.slug
