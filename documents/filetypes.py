"""Which files may be uploaded, checked by extension **and** by their first bytes, and the content
type each is served with. Anything that a browser could run as a page (HTML, SVG, XML, scripts) is
refused; downloads always go out as attachments with ``nosniff``."""

import zipfile
from dataclasses import dataclass

OOXML = {
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
}
ODF = {
    "odt": "application/vnd.oasis.opendocument.text",
    "ods": "application/vnd.oasis.opendocument.spreadsheet",
}
SAFE_TYPES = {
    "pdf": "application/pdf",
    "png": "image/png",
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
    "gif": "image/gif",
    "txt": "text/plain; charset=utf-8",
    "csv": "text/csv; charset=utf-8",
    **OOXML,
    **ODF,
}
ALLOWED_EXTENSIONS = tuple(sorted(SAFE_TYPES))
MARKUP_STARTS = (b"<!doctype", b"<html", b"<svg", b"<?xml", b"<script", b"<head", b"<body", b"<iframe")


@dataclass(frozen=True)
class Sniffed:
    extension: str
    content_type: str


def extension_of(name: str) -> str:
    return name.rsplit(".", 1)[-1].lower() if "." in name else ""


def _zip_names(fileobj) -> set[str]:
    try:
        with zipfile.ZipFile(fileobj) as archive:
            return set(archive.namelist())
    except (zipfile.BadZipFile, OSError, ValueError):
        return set()


def _zip_mimetype(fileobj) -> bytes:
    try:
        with zipfile.ZipFile(fileobj) as archive:
            return archive.read("mimetype").strip()
    except (zipfile.BadZipFile, KeyError, OSError, ValueError):
        return b""


def content_matches(extension: str, fileobj) -> bool:
    """Whether the file's bytes are what its extension claims."""
    fileobj.seek(0)
    head = fileobj.read(8192)
    fileobj.seek(0)
    if extension == "pdf":
        return head.startswith(b"%PDF-")
    if extension == "png":
        return head.startswith(b"\x89PNG\r\n\x1a\n")
    if extension in ("jpg", "jpeg"):
        return head.startswith(b"\xff\xd8\xff")
    if extension == "gif":
        return head.startswith((b"GIF87a", b"GIF89a"))
    if extension in OOXML:
        if not head.startswith(b"PK\x03\x04"):
            return False
        ok = "[Content_Types].xml" in _zip_names(fileobj)
        fileobj.seek(0)
        return ok
    if extension in ODF:
        if not head.startswith(b"PK\x03\x04"):
            return False
        ok = _zip_mimetype(fileobj) == ODF[extension].encode()
        fileobj.seek(0)
        return ok
    if extension in ("txt", "csv"):
        if b"\x00" in head:
            return False
        try:
            text = head.decode("utf-8")
        except UnicodeDecodeError as exc:  # a multi-byte character cut at the 8 KB boundary is fine
            if exc.start < len(head) - 4:
                try:
                    text = head.decode("cp1252")
                except UnicodeDecodeError:
                    return False
            else:
                text = head[: exc.start].decode("utf-8")
        return not text.lstrip().lower().encode().startswith(MARKUP_STARTS)
    return False


def served_content_type(extension: str) -> str:
    """The type a download is served with: from the safe list, else a plain octet stream."""
    return SAFE_TYPES.get(extension, "application/octet-stream")
