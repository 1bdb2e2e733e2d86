"""What a signed-in person may do in one estate: the estate, their memberships in it, and
whether they came in as an enterprise admin. The web layer resolves it from the URL
(portal/web/tenancy.py); services take it as the acting party and ask it the estate's
authorisation rules (`administers`, `manages_gate`)."""

from __future__ import annotations

from dataclasses import dataclass

from portal.models import Estate, Membership, Role, User


@dataclass(frozen=True)
class EstateAccess:
    estate: Estate
    memberships: tuple[Membership, ...]
    as_enterprise_admin: bool
    user: User | None = None  # the acting person (services write it in the audit trail)

    @property
    def roles(self) -> set[Role]:
        return {m.role for m in self.memberships}

    def membership_for(self, role: Role | None) -> Membership | None:
        for m in self.memberships:
            if role is None or m.role == role:
                return m
        return None

    @property
    def actor_id(self) -> int | None:
        if self.user is not None:
            return self.user.id
        return self.memberships[0].user_id if self.memberships else None

    @property
    def administers(self) -> bool:
        """An estate admin here, or an enterprise admin."""
        return self.as_enterprise_admin or Role.ESTATE_ADMIN in self.roles

    @property
    def manages_gate(self) -> bool:
        """May ban visitors, lift bans and revoke passes: guard supervisors and admins."""
        return self.administers or any(m.role == Role.GUARD and m.is_supervisor for m in self.memberships)
