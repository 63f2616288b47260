"""Actions: the only code that changes business state. Importing this package registers them all."""
from crm.core.registry import (ActionDef, ActionError, ActionForbidden, ActionInvalid, ActionNotFound,  # noqa: F401
                       action, actions_for, all_actions, get_action, run)
from crm.sales.actions import leads  # noqa: F401,E402
from crm.sales.actions import pipeline  # noqa: F401,E402
from crm.sales.actions import sending  # noqa: F401,E402
from crm.sales.actions import invoices  # noqa: F401,E402
from crm.sales.actions import proposals  # noqa: F401,E402
from crm.sales.actions import estimates  # noqa: F401,E402
from crm.sales.actions import payments  # noqa: F401,E402
from crm.sales.actions import lead_activity  # noqa: F401,E402
from crm.shipping import actions as shipping  # noqa: F401,E402
from crm.sales.actions import advances, payment_emails  # noqa: F401,E402
from crm.online_payments import actions as online_payments  # noqa: F401,E402
from crm.sales.actions import contracts  # noqa: F401,E402
from crm.sales.actions import goals  # noqa: F401,E402
from crm.sales.actions import activity_email  # noqa: F401,E402
from crm.sales.actions import campaigns  # noqa: F401,E402
from crm.purchasing.actions import purchase_requests, quotations, purchase_orders, vendor_invoices  # noqa: F401,E402
from crm.purchasing.actions import receiving, backorders  # noqa: F401,E402
from crm.efactura import actions as efactura  # noqa: F401,E402
from crm.webhooks import actions as webhooks  # noqa: F401,E402
from crm.warehouse.actions import stock, goods_receipts, deliveries, reservations, stock_rotation  # noqa: F401,E402
from crm.warehouse.actions import packing_lists  # noqa: F401,E402
from crm.warehouse.actions import physical_inventory  # noqa: F401,E402
