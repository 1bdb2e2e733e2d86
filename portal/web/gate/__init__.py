from portal.models import Role
from portal.web.tenancy import estate_blueprint

bp = estate_blueprint("gate", __name__, Role.GUARD)

from portal.web.gate import (  # noqa: E402,F401
    device_views,
    extras_views,
    offline_views,  # the gate page without network
    staff_views,
    views,
    walkins_views,  # walk-ins at the gate
)
from portal.web.supervision import register  # noqa: E402

register(bp, "gate")  # bans and active passes, for guard supervisors
