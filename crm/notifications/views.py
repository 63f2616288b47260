"""/admin/notifications: the signed-in staff member's notifications, newest first, with links to
the records, mark-as-read (one or all), and the bell's unread count in the navbar."""
from __future__ import annotations

from flask import abort, flash, redirect, request
from flask_admin import expose
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import update

from crm.admin_views.access import StaffView
from crm.core import options
from crm.core.extensions import db
from crm.notifications import set_wants_email, unread_count, wants_email
from crm.notifications.models import Notification

PAGE_SIZE = 30


class NotificationsView(StaffView):  # everyone reads their own
    def is_visible(self):
        return False  # reached from the bell

    def _mine(self):
        return db.session.query(Notification).filter(Notification.touserid == current_user.staffid)

    @expose("/")
    def index(self):
        page = max(request.args.get("page", 1, type=int), 1)
        unread_only = request.args.get("unread") == "1"
        q = self._mine()
        if unread_only:
            q = q.filter(Notification.isread.is_(False))
        total = q.count()
        rows = q.order_by(Notification.date.desc(), Notification.id.desc()) \
            .offset((page - 1) * PAGE_SIZE).limit(PAGE_SIZE).all()

        return self.render("admin/crm_notifications.html", rows=rows, page=page, total=total,
                           pages=max((total + PAGE_SIZE - 1) // PAGE_SIZE, 1), unread_only=unread_only,
                           form=FlaskForm(), emailed=wants_email(current_user.staffid),
                           email_option=options.get("notifications_email_staff"))

    @expose("/email", methods=["POST"])
    def email_preference(self):
        """The staff member's own on/off for notification emails."""
        if self._checked_post():
            on = request.form.get("email") == "1"
            set_wants_email(current_user.staffid, on)
            db.session.commit()
            flash("Notifications will be emailed to you." if on else "Notifications will no longer be emailed "
                  "to you; they stay here.", "success")
        return redirect(self.get_url(".index"))

    def _checked_post(self):
        if not FlaskForm().validate_on_submit():
            flash("The form expired; please try again.", "error")
            return False
        return True

    @expose("/<int:note_id>/open")
    def open(self, note_id):
        """Follow a notification's link, marking it read."""
        note = self._mine().filter_by(id=note_id).one_or_none()
        if note is None:
            abort(404)
        note.isread = note.isread_inline = True
        db.session.commit()
        link = note.link or ""
        return redirect(link if link.startswith("/") and not link.startswith("//") else self.get_url(".index"))

    @expose("/<int:note_id>/read", methods=["POST"])
    def mark_read(self, note_id):
        if self._checked_post():
            if self._mine().filter_by(id=note_id).update({"isread": True, "isread_inline": True}) == 0:
                abort(404)
            db.session.commit()
        return redirect(request.referrer or self.get_url(".index"))

    @expose("/read-all", methods=["POST"])
    def mark_all_read(self):
        if self._checked_post():
            done = db.session.execute(
                update(Notification).where(Notification.touserid == current_user.staffid,
                                           Notification.isread.is_(False))
                .values(isread=True, isread_inline=True).execution_options(synchronize_session=False)).rowcount
            db.session.commit()
            flash(f"{done} notification(s) marked as read.", "success")
        return redirect(self.get_url(".index"))


def unread_for_current_user() -> int:
    """The bell's number (one indexed COUNT per page)."""
    if not current_user.is_authenticated:
        return 0
    return unread_count(current_user)


def init_notifications(admin, app) -> None:
    admin.add_view(NotificationsView(name="Notifications", endpoint="staff_notifications", url="/admin/notifications"))
    app.jinja_env.globals["crm_unread_notifications"] = unread_for_current_user
