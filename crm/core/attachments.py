"""Attachments (tblfiles) on the records that allow them: ``attach_file`` and where files live.

A file is stored in the "attachments" area of crm/core/storage.py, sub-folder <rel_type>/<id>, as
``<32 random hex>-<safe name>`` (a name the server makes); that stored name is tblfiles.file_name (as in Perfex, file_name is the name on disk) and
:func:`original_name` gives back the name the person uploaded. Limits come from the options
``attachment_max_mb`` and ``attachment_allowed_extensions``. The file is written inside the
action's transaction and removed again if that transaction rolls back, so a refused or failed
upload leaves neither a file nor a row.

Who may download an attachment: whoever may view the record *and* attach files to it (the
``action:<resource>.attach_file`` permission). Viewing alone is not enough: Warehouse and Finance
see the sales grids for look-ups, but a lead's documents are the sales team's.
"""
from __future__ import annotations

import os
import re
from typing import Callable
from pathlib import Path

from flask_wtf.file import FileField, FileRequired
from wtforms import Form

from crm.core import options, storage
from crm.core.extensions import db
from crm.core.models.records import File
from crm.core.permissions import can, can_table
from crm.core.registry import ActionError, ActionInvalid, action
from crm.core.resources import primary_key, resource_name

# Models that allow attachments, with the rel_type their tblfiles rows use (Perfex's names): each
# area declares its own with ``attachable``.
ATTACHABLE: dict[type, str] = {}
_ON_ATTACHED: dict[type, Callable] = {}
_UPLOADED = "crm_uploaded_files"
_STORED = re.compile(r"^[0-9a-f]{32}-")


class AttachmentRefused(ActionInvalid):
    """The file cannot be accepted; ``status`` says why (413 too large, 415 type, 422 other)."""

    def __init__(self, message: str, status: int = 422):
        super().__init__({"file": [message]})
        self.message = message  # the message names the file already; no "file: " prefix
        self.status = status


def rel_type_of(model) -> str | None:
    return ATTACHABLE.get(model)


AREA = "attachments"  # crm/core/storage.py


def stored_path(row: File) -> Path | None:
    """Where the file of a tblfiles row is on disk; None if it is missing or its name would leave its folder."""
    return storage.path_of(AREA, row.file_name, row.rel_type, row.rel_id)


def original_name(file_name: str) -> str:
    return _STORED.sub("", file_name or "", count=1)


def allowed_extensions() -> list[str]:
    raw = options.get("attachment_allowed_extensions") or ""
    return [e.strip().lower().lstrip(".") for e in raw.split(",") if e.strip()]


def max_bytes() -> int:
    return int(options.get("attachment_max_mb")) * 1024 * 1024


def _size(stream) -> int:
    try:
        stream.seek(0, os.SEEK_END)
        size = stream.tell()
        stream.seek(0)
        return size
    except (AttributeError, OSError):  # not seekable: count it (it is spooled to a temp file by Werkzeug)
        return -1


def may_download(user, model) -> bool:
    return (model in ATTACHABLE and can_table(user, model, "view")
            and can(user, f"action:{_resource(model)}.attach_file"))


def _resource(model) -> str:
    return resource_name(model)


class AttachForm(Form):
    file = FileField("File", validators=[FileRequired(message="Choose a file to attach (send it as multipart "
                                                              "form data; JSON cannot carry a file).")])


def attach_file(obj, actor, file):
    rel_type = rel_type_of(type(obj))
    name = (file.filename or "").replace("\\", "/").rsplit("/", 1)[-1].strip()
    ext = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    allowed = allowed_extensions()
    if ext not in allowed:
        kind = f"files of type .{ext}" if ext else "files without an extension"
        raise AttachmentRefused(f"“{name}” was not attached: {kind} are not allowed "
                                f"(allowed: {', '.join(allowed)}).", status=415)
    size = _size(file.stream)
    limit = max_bytes()
    if size == 0:
        raise AttachmentRefused(f"“{name}” was not attached: the file is empty.")
    if size > limit:
        raise AttachmentRefused(f"“{name}” was not attached: it is {size / 1048576:.1f} MB and the limit is "
                                f"{limit // 1048576} MB.", status=413)
    stored = storage.new_name(ext, label=name)
    row = File(rel_type=rel_type, rel_id=obj_id(obj), file_name=stored, size=size,
               filetype=(file.mimetype or "application/octet-stream")[:40], staffid=getattr(actor, "staffid", None))
    db.session.add(row)
    db.session.flush()
    try:
        path = storage.folder(AREA, rel_type, row.rel_id) / stored
        with open(path, "xb") as out:
            db.session.info.setdefault(_UPLOADED, []).append(str(path))
            written = _copy(file.stream, out, limit)
    except OSError as exc:
        raise ActionError(f"“{name}” could not be stored: {exc.strerror or exc}.") from exc
    if written > limit:  # a stream that could not tell its size
        raise AttachmentRefused(f"“{name}” was not attached: it is larger than the limit of "
                                f"{limit // 1048576} MB.", status=413)
    row.size = written
    if on_attached := _ON_ATTACHED.get(type(obj)):
        on_attached(obj, actor, name)
    return f"“{name}” attached"


def _copy(src, dst, limit: int) -> int:
    written = 0
    while chunk := src.read(1024 * 1024):
        written += len(chunk)
        if written > limit:
            return written
        dst.write(chunk)
    return written


def obj_id(obj) -> int:
    return getattr(obj, primary_key(type(obj)))


def attachable(model, rel_type: str, on_attached: Callable | None = None) -> None:
    """Let ``model``'s records carry files (tblfiles rows of ``rel_type``) through its "Attach file"
    action; ``on_attached(obj, actor, name)`` writes the record's own history line."""
    ATTACHABLE[model] = rel_type
    if on_attached:
        _ON_ATTACHED[model] = on_attached
    action(model, "attach_file", "Attach file", form=AttachForm, icon="fa-paperclip")(attach_file)


# A rolled-back upload leaves no file behind; a committed one is kept.
def _remove_uploads(session, previous_transaction):
    for path in session.info.pop(_UPLOADED, ()):
        try:
            os.remove(path)
        except FileNotFoundError:
            pass
        _prune(Path(path).parent)


def _keep_uploads(session):
    session.info.pop(_UPLOADED, None)


def _prune(folder: Path) -> None:
    """Remove the record's folder if the refused upload left it empty."""
    try:
        folder.rmdir()
    except OSError:
        pass


def register_stages(add) -> None:
    """Its stages of the commit pipeline (crm/core/commit_pipeline.py)."""
    add("after_commit", "attachments.keep", _keep_uploads)
    add("after_soft_rollback", "attachments.remove", _remove_uploads)
