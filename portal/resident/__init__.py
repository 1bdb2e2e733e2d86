from portal.models import Role
from portal.tenancy import estate_blueprint

bp = estate_blueprint("resident", __name__, Role.RESIDENT)

import portal.resident.walkins_views  # noqa: E402,F401 - walk-ins waiting at the gate
from portal.resident import views, visits_views  # noqa: E402,F401
