from portal.models import Role
from portal.web.tenancy import estate_blueprint

bp = estate_blueprint("admin", __name__, Role.ESTATE_ADMIN)

from portal.web.admin import (  # noqa: E402,F401
    amenities_views,
    approvals_views,
    audit_views,
    billing_reports_views,
    billing_views,
    dues_views,
    extras_views,
    gate_views,
    import_views,
    integrations_views,
    invitations_views,
    members_views,
    messages_views,
    payments_views,
    people_views,
    receipt_views,
    views,
    visit_log_views,
    visits_views,
)
