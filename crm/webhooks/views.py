"""Settings → Webhooks: the generated view with the events as a multi-select (every event in
crm.core.events.EVENTS, including those other modules register) and the URL checked in the form."""
from __future__ import annotations

from flask_login import current_user
from wtforms import SelectMultipleField, widgets
from wtforms.validators import ValidationError

from crm.admin_views.factory import CrmModelView, build_view
from crm.core.events import EVENTS
from crm.core.models.base import FieldError
from crm.webhooks.models import Webhook, check_webhook_url


def _event_choices():
    return [(name, f"{name} – {meaning}") for name, meaning in EVENTS.items()]


class EventsField(SelectMultipleField):
    """Shows the stored comma-separated names as ticked boxes; gives back a list."""

    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()

    def process_data(self, value):
        if isinstance(value, str):
            value = [v for v in value.split(",") if v]
        super().process_data(value)


def _some_chosen(form, field):
    if not field.data:
        raise ValidationError("Choose at least one event to send.")


def _model_rule(check):
    """A form validator running the model's own check, so the form and the API say the same."""

    def validate(form, field):
        try:
            check(field.data)
        except FieldError as exc:
            raise ValidationError(exc.message) from None

    return validate


def webhook_view():
    def on_model_change(self, form, model, is_created):
        if is_created and model.addedfrom is None and current_user.is_authenticated:
            model.addedfrom = current_user.staffid
        CrmModelView.on_model_change(self, form, model, is_created)

    return build_view(Webhook, admin={
        # Our own field rather than the generated one: Flask-Admin would mark a NOT NULL column
        # "required", and on checkboxes the browser would then demand every one of them.
        "form_excluded_columns": ["datecreated", "addedfrom", "added_by", "events"],
        "form_extra_fields": {"events": EventsField("Events", choices=_event_choices, validators=[_some_chosen],
                                                    description="The events sent to this URL.")},
        "form_args": {"url": {"validators": [_model_rule(check_webhook_url)]}},
        "on_model_change": on_model_change,
    })


__all__ = ["webhook_view", "EventsField"]
