"""The drawn signature: a data:image/png;base64 URL from the portal's canvas, checked and stored
as a PNG file in the "signatures" storage area (crm/core/storage.py) (the document's ``signature`` column keeps the name)."""
from __future__ import annotations

import base64
import binascii
import io
from pathlib import Path

from crm.core import storage

PREFIX = "data:image/png;base64,"
MAX_BYTES = 500 * 1024  # the decoded PNG
MAX_PIXELS = 4096 * 4096
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
AREA = "signatures"  # crm/core/storage.py


class SignatureError(ValueError):
    pass


def decode(data_url: str | None) -> bytes:
    """The PNG bytes of a signature data URL, or SignatureError saying what to do."""
    data_url = (data_url or "").strip()
    if not data_url:
        raise SignatureError("Signature is required: draw your signature in the box.")
    if not data_url.startswith(PREFIX):
        raise SignatureError("Signature: the drawing must be a PNG image; clear the box and draw again.")
    b64 = data_url[len(PREFIX):]
    if len(b64) > (MAX_BYTES * 4) // 3 + 4:
        raise SignatureError("Signature: the image is larger than 500 KB; clear the box and draw again.")
    try:
        raw = base64.b64decode(b64, validate=True)
    except (binascii.Error, ValueError):
        raise SignatureError("Signature: the image could not be read; clear the box and draw again.") from None
    if len(raw) >= MAX_BYTES:
        raise SignatureError("Signature: the image is larger than 500 KB; clear the box and draw again.")
    if not raw.startswith(PNG_MAGIC):
        raise SignatureError("Signature: the drawing must be a PNG image; clear the box and draw again.")
    _check_image(raw)
    return raw


def _check_image(raw: bytes) -> None:
    from PIL import Image, UnidentifiedImageError  # lazy: Pillow is only for signature images

    try:
        with Image.open(io.BytesIO(raw)) as img:
            if img.format != "PNG":
                raise SignatureError("Signature: the drawing must be a PNG image; clear the box and draw again.")
            width, height = img.size
            if width * height > MAX_PIXELS:
                raise SignatureError("Signature: the image is too large; clear the box and draw again.")
            img.verify()
        with Image.open(io.BytesIO(raw)) as img:
            rgba = img.convert("RGBA")
    except SignatureError:
        raise
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        raise SignatureError("Signature: the image could not be read; clear the box and draw again.") from None
    # A blank canvas is a valid PNG: something must be drawn (not transparent, not white).
    alpha = rgba.getchannel("A").point(lambda a: 255 if a > 0 else 0)
    ink = rgba.convert("L").point(lambda v: 255 if v < 250 else 0)
    from PIL import ImageChops  # lazy: Pillow is only for signature images

    if ImageChops.multiply(alpha, ink).getbbox() is None:
        raise SignatureError("Signature is required: draw your signature in the box.")


def store(kind: str, doc_id: int, png: bytes) -> str:
    """Write the PNG; returns its server-made file name (what the ``signature`` column keeps)."""
    return storage.save(AREA, png, "png", label=f"{kind}-{int(doc_id)}")


def remove(name: str | None) -> None:
    storage.remove(AREA, name)


def path_of(name: str | None) -> Path | None:
    """The signature's file, or None (no signature, or a name that would leave the folder)."""
    return storage.path_of(AREA, name) if name else None
