"""What a signed-in person may do in one estate: the estate, their memberships in it, and
whether they came in as an enterprise admin. The web layer resolves it from the URL
(portal/web/tenancy.py); services take it as the acting party."""

from __future__ import annotations

from dataclasses import dataclass

from portal.models import Estate, Membership, Role


@dataclass(frozen=True)
class EstateAccess:
    estate: Estate
    memberships: tuple[Membership, ...]
    as_enterprise_admin: bool

    @property
    def roles(self) -> set[Role]:
        return {m.role for m in self.memberships}

    def membership_for(self, role: Role | None) -> Membership | None:
        for m in self.memberships:
            if role is None or m.role == role:
                return m
        return None
