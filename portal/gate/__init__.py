from portal.models import Role
from portal.tenancy import estate_blueprint

bp = estate_blueprint("gate", __name__, Role.GUARD)

import portal.gate.offline_views  # noqa: E402,F401 - the gate page without network
import portal.gate.walkins_views  # noqa: E402,F401 - walk-ins at the gate
from portal.gate import device, extras_views, staff_views, views  # noqa: E402,F401
from portal.gate.manage import register  # noqa: E402

register(bp, "gate")  # bans and active passes, for guard supervisors
