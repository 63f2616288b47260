"""All models, imported once so SQLAlchemy and Alembic see every table."""
from .base import Resource, StatusEnum  # noqa: F401
from . import settings, crm, catalog, sales, warehouse, purchase, messaging, capture  # noqa: F401
from .settings import *  # noqa: F401,F403
from .crm import *  # noqa: F401,F403
from .catalog import *  # noqa: F401,F403
from .sales import *  # noqa: F401,F403
from .warehouse import *  # noqa: F401,F403
from .purchase import *  # noqa: F401,F403
from .capture import *  # noqa: F401,F403
from .messaging import *  # noqa: F401,F403
from . import facebook  # noqa: F401,E402
from .facebook import *  # noqa: F401,F403,E402
from . import marketing  # noqa: F401,E402
from .marketing import *  # noqa: F401,F403,E402
from .efactura import *  # noqa: F401,F403
from ..extensions import db


def all_models():
    """Every mapped class, in declaration order."""
    return [m.class_ for m in db.Model.registry.mappers]
from . import payments  # noqa: F401,E402
from .payments import *  # noqa: F401,F403,E402
from . import webhooks, notifications  # noqa: F401,E402
from .webhooks import *  # noqa: F401,F403,E402
from .notifications import *  # noqa: F401,F403,E402
from . import report_rollup  # noqa: F401,E402
from .report_rollup import *  # noqa: F401,F403,E402
from . import audit  # noqa: F401,E402
from .audit import *  # noqa: F401,F403,E402
from . import jobs  # noqa: F401,E402
from .jobs import *  # noqa: F401,F403,E402
