"""Images and files as input parts of a message (``--image``, ``--file``); no network.

:func:`image_part` makes an ``input_image`` part from a URL, a local image file, or a kernel
object (a matplotlib figure, a PIL image, image bytes); :func:`file_part` makes an
``input_file`` part from a URL, a local file or ``(filename, bytes)``.  Local data travels inline
as a base64 ``data:`` URL.  Every user mistake is an :class:`AttachmentError` with one line
saying what is wrong and what to do.

matplotlib and PIL are never imported here: their objects are recognised by the module their
class comes from and driven through their own methods, so loading this module stays cheap.
"""

from __future__ import annotations

import base64
import mimetypes
import os
from io import BytesIO
from pathlib import Path
from stat import S_ISREG
from typing import Any

from agcloud_magic.errors import ConfigError

__all__ = [
    "DETAILS",
    "IMAGE_TYPES",
    "MAX_IMAGE_SIDE",
    "AttachmentError",
    "data_url",
    "file_part",
    "image_part",
    "sniff_image_type",
]


class AttachmentError(ConfigError):
    """An ``--image``/``--file`` value cannot be sent (missing, unreadable, wrong type, too big)."""


#: Values of the ``detail`` field of an ``input_image`` part.
DETAILS = ("low", "high", "auto")
#: Image types the API accepts, and what we call them in messages.
IMAGE_TYPES = {"image/png": "PNG", "image/jpeg": "JPEG", "image/gif": "GIF", "image/webp": "WEBP"}
#: Figures and PIL images are scaled so that their long side is at most this many pixels: the
#: API scales larger images down anyway, so bigger ones only cost upload time.
MAX_IMAGE_SIDE = 2048

_IMAGE_EXTENSIONS = {
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".jpe": "image/jpeg",
    ".gif": "image/gif",
    ".webp": "image/webp",
}
# Our own table first: ``mimetypes`` also reads the machine's mime.types, which differs between
# systems, and a file's MIME type should not depend on where the notebook runs.
_FILE_TYPES = {
    ".pdf": "application/pdf",
    ".csv": "text/csv",
    ".tsv": "text/tab-separated-values",
    ".txt": "text/plain",
    ".md": "text/markdown",
    ".json": "application/json",
    ".jsonl": "application/jsonl",
    ".html": "text/html",
    ".htm": "text/html",
    ".xml": "application/xml",
    ".py": "text/x-python",
    ".ipynb": "application/x-ipynb+json",
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    **_IMAGE_EXTENSIONS,
}
_SUPPORTED = "PNG, JPEG, GIF or WEBP"
_IMAGE_SOURCES = "a file path, an http(s) URL, a matplotlib figure, a PIL image or image bytes"


def sniff_image_type(data: bytes) -> str | None:
    """The MIME type of PNG, JPEG, GIF or WEBP data from its first bytes, else ``None``."""
    head = bytes(data[:16])
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith((b"GIF87a", b"GIF89a")):
        return "image/gif"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    return None


def data_url(data: bytes, mime: str) -> str:
    """``data:<mime>;base64,<data>``."""
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"


def _is_url(text: str) -> bool:
    return text.lower().startswith(("http://", "https://"))


def _size(n: int) -> str:
    return f"{n / 1024 / 1024:.1f} MB" if n >= 1024 * 1024 else f"{n / 1024:.0f} KB"


def _from_module(obj: Any, package: str) -> bool:
    # By class module, so subclasses count and the package itself is never imported.
    return any(
        (getattr(cls, "__module__", "") or "").split(".")[0] == package for cls in type(obj).__mro__
    )


def _label(option: str, source: Any) -> str:
    if isinstance(source, (str, os.PathLike)):
        return f"{option} {os.fspath(source)!r}"
    return f"{option} ({type(source).__name__})"


def _read(
    path: Path, label: str, max_bytes: int, *, variable: str | None = None, image: bool = False
) -> bytes:
    """Read a local file, turning every failure into one line."""
    try:
        stat = path.stat()
    except (FileNotFoundError, NotADirectoryError):
        where = "" if path.is_absolute() else f" (relative to {Path.cwd()})"
        also = f", and no variable {variable!r} in the notebook" if variable else ""
        raise AttachmentError(f"{label}: no such file{where}{also}; check the path") from None
    except PermissionError:
        raise AttachmentError(f"{label}: permission denied; check the file's permissions") from None
    except OSError as exc:
        raise AttachmentError(f"{label}: cannot read it ({exc.strerror or exc})") from None
    if path.is_dir():
        raise AttachmentError(f"{label}: is a directory; give the path of a file")
    if not S_ISREG(stat.st_mode):
        # A device (/dev/zero) never ends and a FIFO blocks until a writer comes: never open
        # them.  (The checked stat and the opened file could differ; the bounded read below
        # still holds.)
        raise AttachmentError(
            f"{label}: not a regular file (a device, FIFO or socket); give the path of a file"
        )
    _check_size(stat.st_size, max_bytes, label, image)
    try:
        # Bounded: /proc files report size 0, and a file may grow after stat().
        with path.open("rb") as handle:
            data = handle.read(max_bytes + 1)
    except PermissionError:
        raise AttachmentError(
            f"{label}: cannot read it (permission denied); check the file's permissions"
        ) from None
    except OSError as exc:
        raise AttachmentError(f"{label}: cannot read it ({exc.strerror or exc})") from None
    if not data:
        raise AttachmentError(f"{label}: the file is empty")
    _check_size(len(data), max_bytes, label, image)  # one byte over: it is too big
    return data


def _check_size(size: int, max_bytes: int, label: str, image: bool = False) -> None:
    if size > max_bytes:
        advice = "use a smaller or compressed image, or its URL" if image else "use its URL"
        raise AttachmentError(
            f"{label}: {_size(size)} is over the {_size(max_bytes)} limit; "
            f"{advice} (or raise max_bytes)"
        )


# --------------------------------------------------------------------------- images


def image_part(
    source: Any,
    *,
    namespace: dict[str, Any] | None = None,
    detail: str | None = None,
    max_bytes: int = 20 * 1024 * 1024,
) -> dict[str, Any]:
    """An ``{"type": "input_image", "image_url": ..., "detail": ...}`` part.

    ``source`` is an http(s) URL (passed through) or ``data:image/...`` URL; a local path (``str``
    or ``Path``, ``~`` expanded) sent as a base64 data URL, its type read from the magic bytes
    (falling back to the extension); the name of a variable in ``namespace``; or the object
    itself: a matplotlib figure (or axes), a PIL image (both sent as PNG, long side at most
    :data:`MAX_IMAGE_SIDE` pixels) or ``bytes`` holding a PNG/JPEG/GIF/WEBP image.
    ``detail`` is ``low``, ``high`` or ``auto`` (the default).
    """
    chosen = (detail or "auto").strip().lower()
    if chosen not in DETAILS:
        raise AttachmentError(f"--detail {detail!r} is not one of low, high, auto")
    label = _label("--image", source)
    url = _image_url(source, namespace, label, max_bytes)
    return {"type": "input_image", "image_url": url, "detail": chosen}


def _image_url(source: Any, namespace: dict | None, label: str, max_bytes: int) -> str:
    variable = None
    if isinstance(source, str):
        text = source.strip()
        if _is_url(text):
            return text
        if text.lower().startswith("data:"):
            if text.lower().startswith("data:image/"):
                return text
            raise AttachmentError(f"{label}: a data: URL must hold an image (data:image/png;...)")
        if text.isidentifier():
            variable = text
            if namespace is not None and text in namespace:
                return _object_image_url(namespace[text], label, max_bytes, variable=text)
        source = text
    if isinstance(source, (str, os.PathLike)):
        path = Path(source).expanduser()
        variable = variable if namespace is not None else None
        data = _read(path, label, max_bytes, variable=variable, image=True)
        mime = sniff_image_type(data) or _IMAGE_EXTENSIONS.get(path.suffix.lower())
        if mime is None:
            kind = path.suffix.lstrip(".").upper() or "this file type"
            raise AttachmentError(
                f"{label}: {kind} is not an image type that can be sent; use {_SUPPORTED} "
                "(convert it first, e.g. save an SVG as PNG)"
            )
        return data_url(data, mime)
    return _object_image_url(source, label, max_bytes)


def _object_image_url(obj: Any, label: str, max_bytes: int, variable: str | None = None) -> str:
    if variable is not None and isinstance(obj, (str, os.PathLike)):
        # A variable holding a path or URL: resolve it, but look nothing else up by name.
        return _image_url(
            obj if isinstance(obj, os.PathLike) else obj.strip(), None, label, max_bytes
        )
    if isinstance(obj, (bytes, bytearray, memoryview)):
        data = bytes(obj)
        mime = sniff_image_type(data)
        if mime is None:
            raise AttachmentError(f"{label}: the bytes are not a {_SUPPORTED} image")
        _check_size(len(data), max_bytes, label, image=True)
        return data_url(data, mime)
    if _from_module(obj, "matplotlib"):
        figure = obj if hasattr(obj, "savefig") else getattr(obj, "figure", None)
        if hasattr(figure, "savefig"):
            data = _figure_png(figure)
            _check_size(len(data), max_bytes, label, image=True)
            return data_url(data, "image/png")
    if _from_module(obj, "PIL") and hasattr(obj, "save") and hasattr(obj, "size"):
        data = _pil_png(obj)
        _check_size(len(data), max_bytes, label, image=True)
        return data_url(data, "image/png")
    what = f"the variable holds a {type(obj).__name__}" if variable else f"a {type(obj).__name__}"
    raise AttachmentError(f"{label}: {what}, not an image; use {_IMAGE_SOURCES}")


def _figure_png(figure: Any) -> bytes:
    """A matplotlib figure as PNG, long side at most :data:`MAX_IMAGE_SIDE` pixels."""
    width, height = figure.get_size_inches()
    dpi = float(figure.dpi)
    longest = max(width, height, 1e-6)
    if longest * dpi > MAX_IMAGE_SIDE:
        # Round the dpi down a little so pixel rounding can never push a side past the limit.
        dpi = int(MAX_IMAGE_SIDE / longest * 100) / 100
    buffer = BytesIO()
    figure.savefig(buffer, format="png", dpi=dpi)
    return buffer.getvalue()


def _pil_png(image: Any) -> bytes:
    """A PIL image as PNG, long side at most :data:`MAX_IMAGE_SIDE` pixels."""
    if max(image.size) > MAX_IMAGE_SIDE:
        image = image.copy()  # thumbnail() works in place: never touch the user's image
        image.thumbnail((MAX_IMAGE_SIDE, MAX_IMAGE_SIDE))
    # PNG cannot hold every PIL mode (CMYK, float, 32-bit int, "La" ...); which conversion works
    # depends on the mode, so try the direct save first and then the usual targets in turn.
    alpha = any(band in ("A", "a") for band in image.getbands())
    targets = ("RGBA", "RGB", "LA") if alpha else ("RGB", "RGBA", "LA")
    attempts = [lambda: image, *(lambda m=m: image.convert(m) for m in targets)]
    for attempt in attempts:
        buffer = BytesIO()
        try:
            attempt().save(buffer, format="PNG")
        except (OSError, ValueError, KeyError):
            continue
        return buffer.getvalue()
    raise AttachmentError(f"--image: a PIL image in mode {image.mode!r} cannot be saved as PNG")


# --------------------------------------------------------------------------- files


def file_mime_type(filename: str) -> str:
    """The MIME type of a file name by its extension (``application/octet-stream`` if unknown)."""
    suffix = Path(filename).suffix.lower()
    if suffix in _FILE_TYPES:
        return _FILE_TYPES[suffix]
    return mimetypes.guess_type(filename)[0] or "application/octet-stream"


def file_part(
    source: Any,
    *,
    namespace: dict[str, Any] | None = None,
    max_bytes: int = 32 * 1024 * 1024,
) -> dict[str, Any]:
    """An ``input_file`` part.

    An http(s) URL gives ``{"type": "input_file", "file_url": url}``; a local path (``~``
    expanded), a variable in ``namespace`` holding a path, or a ``(filename, bytes)`` tuple
    gives ``{"type": "input_file", "filename": name, "file_data": "data:<mime>;base64,..."}``
    with the MIME type taken from the file name.
    """
    label = _label("--file", source)
    variable = None
    if isinstance(source, str):
        text = source.strip()
        if _is_url(text):
            return {"type": "input_file", "file_url": text}
        if text.isidentifier() and namespace is not None:
            variable = text
            if text in namespace:
                return _object_file_part(namespace[text], label, max_bytes, variable=text)
        source = text
    if isinstance(source, (str, os.PathLike)):
        path = Path(source).expanduser()
        data = _read(path, label, max_bytes, variable=variable)
        return _inline_file(path.name, data)
    return _object_file_part(source, label, max_bytes)


def _inline_file(filename: str, data: bytes) -> dict[str, Any]:
    return {
        "type": "input_file",
        "filename": filename,
        "file_data": data_url(data, file_mime_type(filename)),
    }


def _object_file_part(obj: Any, label: str, max_bytes: int, variable: str | None = None) -> dict:
    if variable is not None and isinstance(obj, (str, os.PathLike)):
        return file_part(obj, max_bytes=max_bytes)  # no namespace: one lookup only
    if (
        isinstance(obj, tuple)
        and len(obj) == 2
        and isinstance(obj[0], str)
        and isinstance(obj[1], (bytes, bytearray, memoryview))
    ):
        name, data = Path(obj[0]).name, bytes(obj[1])
        if not name:
            raise AttachmentError(f'{label}: the file name is empty; use ("report.pdf", data)')
        _check_size(len(data), max_bytes, label)
        return _inline_file(name, data)
    if isinstance(obj, (bytes, bytearray, memoryview)):
        raise AttachmentError(
            f"{label}: bytes need a file name; use a (filename, bytes) tuple like "
            '("report.pdf", data)'
        )
    what = f"the variable holds a {type(obj).__name__}" if variable else f"a {type(obj).__name__}"
    raise AttachmentError(
        f"{label}: {what}; use a file path, an http(s) URL or a (filename, bytes) tuple"
    )
