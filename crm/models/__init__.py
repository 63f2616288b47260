"""All models, imported once so SQLAlchemy and Alembic see every table."""
from crm.core.models.base import Resource, StatusEnum  # noqa: F401
from crm.core.models import settings, messaging  # noqa: F401
from crm.sales.models import clients as crm, documents as sales  # noqa: F401
from crm.catalog import models as catalog  # noqa: F401
from crm.warehouse import models as warehouse  # noqa: F401
from crm.purchasing import models as purchase  # noqa: F401
from crm.capture import models as capture  # noqa: F401
from crm.core.models.settings import *  # noqa: F401,F403
from crm.sales.models.clients import *  # noqa: F401,F403
from crm.catalog.models import *  # noqa: F401,F403
from crm.sales.models.documents import *  # noqa: F401,F403
from crm.warehouse.models import *  # noqa: F401,F403
from crm.purchasing.models import *  # noqa: F401,F403
from crm.capture.models import *  # noqa: F401,F403
from crm.core.models.messaging import *  # noqa: F401,F403
from crm.capture import facebook_models as facebook  # noqa: F401,E402
from crm.capture.facebook_models import *  # noqa: F401,F403,E402
from crm.sales.models import marketing  # noqa: F401,E402
from crm.sales.models.marketing import *  # noqa: F401,F403,E402
from crm.sales.models.efactura import *  # noqa: F401,F403
from crm.core.resources import all_models  # noqa: F401,E402
from crm.sales.models import payments  # noqa: F401,E402
from crm.sales.models.payments import *  # noqa: F401,F403,E402
from crm.webhooks import models as webhooks  # noqa: F401,E402
from crm.notifications import models as notifications  # noqa: F401,E402
from crm.webhooks.models import *  # noqa: F401,F403,E402
from crm.notifications.models import *  # noqa: F401,F403,E402
from crm.reports import models as report_rollup  # noqa: F401,E402
from crm.reports.models import *  # noqa: F401,F403,E402
from crm.core.models import audit  # noqa: F401,E402
from crm.core.models.audit import *  # noqa: F401,F403,E402
from crm.core.models import jobs  # noqa: F401,E402
from crm.core.models.jobs import *  # noqa: F401,F403,E402
