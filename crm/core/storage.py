"""Every folder where the product keeps files, and the one way to name, write and find a stored file.

A stored file lives in an *area* (``AREAS`` below), optionally in sub-folders the server chooses
(an attachment's record type and id, an invoice id). Its name is made by the server
(:func:`new_name`: random, plus a sanitised extension) and is what the database column keeps;
nothing a person typed or a remote service sent becomes part of a path.

Reading goes through :func:`path_of` only. A column can still hold a hostile value (an old row, a
restored backup, a door that let it through), so the resolver trusts nothing: it refuses a name
that is empty, absolute, holds a separator, a NUL, ``..`` or a percent-encoded separator, and a
name whose real path (symlinks followed) is not a regular file inside the area's real folder.
Refusal is ``None``, and every caller answers it as "not found" (:func:`send` aborts with 404).
"""
from __future__ import annotations

import os
import re
import secrets
from pathlib import Path
from urllib.parse import unquote

from flask import abort, current_app, send_file
from werkzeug.utils import secure_filename


def _instance(sub: str):
    return lambda app: Path(app.instance_path) / sub


def _uploads(app) -> Path:
    """instance/uploads, or the UPLOAD_FOLDER setting (the tests use a temporary folder)."""
    return Path(app.config.get("UPLOAD_FOLDER") or Path(app.instance_path) / "uploads")


# area -> its folder, from the app's settings.
AREAS = {
    "signatures": _instance("signatures"),  # portal signatures (contracts, proposals, estimates)
    "attachments": _uploads,  # tblfiles; sub-folders <rel_type>/<rel_id>
    "efactura": lambda app: _uploads(app) / "efactura",  # sub-folder <invoice id>: ANAF zip + PDF
    "efactura_received": lambda app: _uploads(app) / "efactura" / "received",  # vendor invoices from ANAF
    "labels": _instance("labels"),  # courier AWB labels
    "imports": lambda app: Path(app.config.get("CRM_IMPORT_FOLDER") or Path(app.instance_path) / "imports"),
    "outbox": _instance("outbox"),  # email attachments waiting in the outbox
    "branding": _instance("branding"),  # the company logo (crm/core/company.py)
}

# What a stored name or a sub-folder may look like: the server's own names never leave this.
_SAFE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,190}$")
_EXTENSION = re.compile(r"^[a-z0-9]{1,10}$")


def root(area: str) -> Path:
    """The area's folder (not created)."""
    try:
        return AREAS[area](current_app)
    except KeyError:
        raise ValueError(f"unknown storage area {area!r}") from None


def folder(area: str, *sub) -> Path:
    """The area's folder, or the sub-folder given, created if missing."""
    path = root(area).joinpath(*(_checked(str(s)) for s in sub))
    path.mkdir(parents=True, exist_ok=True)
    return path


def is_safe_name(name) -> bool:
    """A name that cannot leave its folder: one plain path segment, whatever decoding is applied."""
    if not isinstance(name, str) or not name or len(name) > 191:
        return False
    decoded = name
    for _ in range(3):  # %252f -> %2f -> /
        decoded = unquote(decoded)
    for text in (name, decoded):
        if "\x00" in text or "/" in text or "\\" in text or ".." in text or os.path.isabs(text):
            return False
    return bool(_SAFE.match(name))


def _checked(name: str) -> str:
    if not is_safe_name(name):
        raise ValueError(f"not a stored file name: {name!r}")
    return name


def extension_of(filename: str | None) -> str:
    """The lower-case extension of a file name if it is plain letters/digits, else ''."""
    ext = (filename or "").replace("\\", "/").rsplit("/", 1)[-1].rpartition(".")[2].lower()
    return ext if "." in (filename or "") and _EXTENSION.match(ext) else ""


def new_name(extension: str = "", label: str | None = None) -> str:
    """A fresh server-made name: 32 random hex digits, then ``-label`` (sanitised) if given, then
    the sanitised extension. ``label`` keeps a readable trace of the uploaded name (attachments)."""
    ext = extension.lower().lstrip(".")
    ext = f".{ext}" if _EXTENSION.match(ext) else ""
    name = secrets.token_hex(16)
    if label:
        safe = re.sub(r"\.{2,}", ".", secure_filename(label)).lstrip("._")  # "a..b" would read as a climb
        if ext and safe.lower().endswith(ext):
            safe = safe[: -len(ext)]
        if safe:
            name = f"{name}-{safe}"[: 191 - len(ext)]
    return name + ext


def write(area: str, name: str, data: bytes, *sub) -> Path:
    """Write ``data`` as the server-made ``name`` (whole file or none); returns its path."""
    path = folder(area, *sub) / _checked(name)
    tmp = path.with_name(f"{path.name}.{secrets.token_hex(4)}.part")
    tmp.write_bytes(data)
    tmp.replace(path)
    return path


def save(area: str, data: bytes, extension: str = "", *sub, label: str | None = None) -> str:
    """Store ``data`` under a new server-made name; returns the name (what the column keeps)."""
    name = new_name(extension, label)
    write(area, name, data, *sub)
    return name


def save_stream(area: str, stream, extension: str = "", *sub, label: str | None = None) -> tuple[str, int]:
    """Store what a readable binary stream holds (an upload) under a new server-made name: (name, size)."""
    name = new_name(extension, label)
    path = folder(area, *sub) / name
    size = 0
    with open(path, "xb") as out:
        while chunk := stream.read(1024 * 1024):
            out.write(chunk)
            size += len(chunk)
    return name, size


def path_of(area: str, stored_name, *sub) -> Path | None:
    """The real path of a stored file, or None when the name is unsafe, the file is missing, is not
    a regular file, or its real path (symlinks followed) is outside the area's real folder."""
    if not is_safe_name(stored_name) or not all(is_safe_name(str(s)) for s in sub):
        return None
    try:
        base = root(area).resolve(strict=True)
        parent = base.joinpath(*(str(s) for s in sub)).resolve(strict=True)
        path = (parent / stored_name).resolve(strict=True)
    except (OSError, RuntimeError):  # missing, a symlink loop
        return None
    if not parent.is_relative_to(base) or path.parent != parent or not path.is_file():
        return None
    return path


def companion(stored_name: str, extension: str) -> str | None:
    """The name of a file stored beside ``stored_name`` with another extension (an archive's PDF)."""
    if not is_safe_name(stored_name) or not _EXTENSION.match(extension):
        return None
    stem = stored_name.rpartition(".")[0] or stored_name
    return f"{stem}.{extension}"


def remove(area: str, stored_name, *sub) -> None:
    """Delete a stored file if it is one (a refused name deletes nothing)."""
    path = path_of(area, stored_name, *sub)
    if path is not None:
        path.unlink(missing_ok=True)


def send(area: str, stored_name, *sub, **kwargs):
    """Flask response with the stored file, or 404 when :func:`path_of` refuses it."""
    path = path_of(area, stored_name, *sub)
    if path is None:
        abort(404)
    resp = send_file(path, **kwargs)
    resp.headers["X-Content-Type-Options"] = "nosniff"
    return resp
