"""The admin home page: who you are, the figures your role needs first (crm.admin_views.dashboard), and the
lists you are likely to open."""
from flask_admin import AdminIndexView, expose
from flask_login import current_user

from crm.admin_views.access import StaffOnly
from crm.admin_views.dashboard import dashboard
from crm.core.options import get


class HomeView(StaffOnly, AdminIndexView):
    def is_accessible(self):
        return current_user.is_authenticated

    @expose("/")
    def index(self):
        return self.render("admin/crm_home.html", sections=dashboard(current_user),
                           base_currency=get("base_currency"))
