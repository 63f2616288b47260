"""Actions: the only code that changes business state. Importing this package registers them all."""
from .registry import (ActionDef, ActionError, ActionForbidden, ActionInvalid, ActionNotFound,  # noqa: F401
                       action, actions_for, all_actions, get_action, run)
from . import leads  # noqa: F401,E402
from . import pipeline  # noqa: F401,E402
from . import sending  # noqa: F401,E402
from . import invoices  # noqa: F401,E402
from . import proposals  # noqa: F401,E402
from . import estimates  # noqa: F401,E402
from . import payments  # noqa: F401,E402
from . import lead_activity, attachments  # noqa: F401,E402
from . import shipping  # noqa: F401,E402
from . import advances, payment_emails, online_payments  # noqa: F401,E402
from . import contracts  # noqa: F401,E402
from . import goals  # noqa: F401,E402
from . import activity_email  # noqa: F401,E402
from . import campaigns  # noqa: F401,E402
from . import purchase_requests, quotations, purchase_orders, vendor_invoices  # noqa: F401,E402
from . import efactura  # noqa: F401,E402
from . import webhooks  # noqa: F401,E402
from . import stock, goods_receipts, deliveries, reservations, stock_rotation, backorders  # noqa: F401,E402
from . import packing_lists  # noqa: F401,E402
from . import physical_inventory  # noqa: F401,E402
