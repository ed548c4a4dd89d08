"""Files uploaded through the web: streamed into the inbox under a safe name, or refused whole.

An upload is written to a hidden temporary file in the inbox (``list_files`` skips names that
start with a dot, so an ingest running meanwhile does not see it), checked, and then given its
final name in one step; any refusal or failure deletes the temporary file, so a refused upload
leaves nothing behind. Checks, each with a plain answer:

* the name: directories are stripped (never trust the client's path), control characters and
  Windows device names (``con.csv``) are refused, other odd characters become ``_``, the
  extension must be one marketops reads;
* the size: more than :data:`MAX_UPLOAD_BYTES` is refused while streaming, an empty file after;
* the content: the first bytes must look like the format (text for CSV/JSON, a workbook archive
  for XLSX, ``PAR1`` for Parquet) so binary garbage named ``.csv`` is refused;
* the same bytes already in the inbox (under any name) answer "unchanged" and keep nothing.

Example:
    >>> safe_upload_name("../../etc/passwd.csv")
    'passwd.csv'
    >>> safe_upload_name('C:\\\\Users\\\\ann\\\\My "leads" (May).CSV')
    'My _leads_ (May).csv'
    >>> safe_upload_name("con.csv")
    Traceback (most recent call last):
    ...
    marketops.app.uploads.UploadRefused: 'con.csv' is a reserved device name on Windows; rename the file and upload it again
"""

from __future__ import annotations

import os
import re
import secrets
import unicodedata
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from marketops.ingest.loader import sha256_of
from marketops.ingest.readers import FORMATS

#: The largest file an upload may carry (bytes); bigger exports go straight into the inbox folder.
MAX_UPLOAD_BYTES = 512 * 1024 * 1024
#: Form fields besides the file are short (CSRF token, a checkbox).
MAX_FIELD_BYTES = 4096
MAX_NAME_CHARS = 120
SNIFF_BYTES = 64 * 1024
TEMP_PREFIX = ".upload-"
_RESERVED = {"con", "prn", "aux", "nul", *(f"com{i}" for i in range(1, 10)), *(f"lpt{i}" for i in range(1, 10))}
_UNSAFE = re.compile(r"[^\w .()+,@-]", re.UNICODE)
FORMAT_WORDS = "CSV, TSV, TXT, XLSX, XLS, Parquet, JSON or JSONL"


class UploadRefused(Exception):
    """The upload cannot be kept; ``status`` is the HTTP status that says why."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


def human_size(n: int) -> str:
    """A byte count in words.

    >>> human_size(512 * 1024 * 1024)
    '512 MB'
    """
    for unit in ("bytes", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:g} {unit}" if unit == "bytes" else f"{n:.0f} {unit}"
        n /= 1024
    return f"{n} GB"


def safe_upload_name(client_name: str) -> str:
    """The inbox name for a file the client called ``client_name``; raises :class:`UploadRefused`."""
    name = re.split(r"[/\\]", client_name or "")[-1]
    name = unicodedata.normalize("NFC", name).strip()
    if any(unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co") for ch in name):
        raise UploadRefused("the file name contains control characters (such as a line break); "
                            "rename the file and upload it again")
    name = name.lstrip(". ")  # hidden files are skipped by ingest; '..' must never reach a path
    stem, dot, ext = name.rpartition(".")
    if not dot or not stem.strip(" ."):
        raise UploadRefused(f"'{client_name[:80]}' has no usable file name; upload a file such as leads.csv")
    ext = "." + ext.lower()
    if ext not in FORMATS:
        raise UploadRefused(f"marketops cannot read '{ext}' files; upload {FORMAT_WORDS}", status=415)
    if stem.split(".")[0].strip().lower() in _RESERVED:
        raise UploadRefused(f"'{name}' is a reserved device name on Windows; rename the file and upload it again")
    stem = "".join(ch if unicodedata.category(ch) == "Pd" else _UNSAFE.sub("_", ch) for ch in stem)
    stem = stem.strip(" .")[: MAX_NAME_CHARS - len(ext)] or "upload"
    return stem + ext


@dataclass
class Placed:
    """Where an accepted upload went."""

    name: str  # the file's name in the inbox
    path: Path
    size: int
    sha256: str
    status: str  # saved | unchanged
    message: str
    renamed_from: str | None = None
    notes: list[str] = field(default_factory=list)


def temp_path(inbox: Path) -> Path:
    inbox.mkdir(parents=True, exist_ok=True)
    return inbox / f"{TEMP_PREFIX}{secrets.token_hex(8)}.part"


def check_content(path: Path, name: str) -> None:
    """Refuse a file whose bytes do not fit its kind (empty, binary garbage, a broken workbook)."""
    size = path.stat().st_size
    if size == 0:
        raise UploadRefused("the file is empty (0 bytes); export it again with its data")
    with open(path, "rb") as f:
        head = f.read(SNIFF_BYTES)
    ext = Path(name).suffix.lower()
    fmt = FORMATS[ext]
    if head.startswith(b"PK\x03\x04"):  # a workbook, whatever its name says (readers open it as one)
        try:
            with zipfile.ZipFile(path) as z:
                names = set(z.namelist())
        except zipfile.BadZipFile:
            names = set()
        if not names & {"xl/workbook.xml", "xl/workbook.bin"}:
            raise UploadRefused(f"'{name}' is a ZIP archive, not a spreadsheet; unzip it and upload the "
                                "files inside", status=415)
        return
    if head.startswith(b"PAR1") or fmt == "parquet":
        with open(path, "rb") as f:
            f.seek(max(0, size - 4))
            tail = f.read(4)
        if not (head.startswith(b"PAR1") and tail == b"PAR1"):
            raise UploadRefused(f"'{name}' is not a Parquet file (or it was cut short)", status=415)
        return
    if ext == ".xls":
        if not head.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
            raise UploadRefused(f"'{name}' is not an Excel workbook", status=415)
        return
    if fmt == "xlsx":
        raise UploadRefused(f"'{name}' is not an Excel workbook (it may be damaged)", status=415)
    _check_text(head, name, fmt, complete=size <= SNIFF_BYTES)


def _check_text(head: bytes, name: str, fmt: str, *, complete: bool) -> None:
    from marketops.errors import SourceError
    from marketops.ingest.readers import detect_encoding

    kind = {"csv": "a text (CSV) file", "json": "a JSON file", "jsonl": "a JSON Lines file"}[fmt]
    refused = UploadRefused(f"'{name}' does not look like {kind}: it contains binary data. "
                            f"Export the data as {FORMAT_WORDS}", status=415)
    try:
        encoding = detect_encoding(head, Path(name))
    except SourceError:
        raise refused from None
    sample = head if complete else head[:-4]
    text = sample.decode(encoding, errors="replace")
    controls = sum(1 for ch in text if unicodedata.category(ch) == "Cc" and ch not in "\t\r\n\f")
    broken = text.count("\ufffd")
    if text and (controls + broken) / len(text) > 0.01:
        raise refused
    if not text.strip():
        raise UploadRefused(f"'{name}' holds only blank space; export it again with its data")
    if fmt in ("json", "jsonl") and text.lstrip("\ufeff \t\r\n")[:1] not in ("{", "["):
        raise UploadRefused(f"'{name}' does not start like {kind} (with '{{' or '[')", status=415)


def _same_bytes_in_inbox(inbox: Path, size: int, digest: str, skip: Path) -> Path | None:
    for other in sorted(inbox.iterdir()):
        if other == skip or other.name.startswith(".") or not other.is_file():
            continue
        try:
            if other.stat().st_size == size and sha256_of(other) == digest:
                return other
        except OSError:
            continue
    return None


def place(tmp: Path, inbox: Path, name: str) -> Placed:
    """Give the checked temporary file ``tmp`` its inbox name, never replacing a different file:
    a name already taken gets a ``-2``, ``-3``... suffix; identical bytes answer "unchanged"."""
    size = tmp.stat().st_size
    digest = sha256_of(tmp)
    same = _same_bytes_in_inbox(inbox, size, digest, tmp)
    if same is not None:
        tmp.unlink(missing_ok=True)
        return Placed(same.name, same, size, digest, "unchanged",
                      f"unchanged: the same file is already in the inbox as '{same.name}'")
    stem, ext = os.path.splitext(name)
    for n in range(1, 1000):
        candidate = inbox / (name if n == 1 else f"{stem}-{n}{ext}")
        try:
            os.link(tmp, candidate)  # fails if the name exists: no race can overwrite a file
        except FileExistsError:
            continue
        except OSError:  # a file system without hard links
            if candidate.exists():
                continue
            tmp.replace(candidate)
        tmp.unlink(missing_ok=True)
        renamed = None if candidate.name == name else name
        message = f"saved to the inbox as '{candidate.name}'" + (
            f" ('{name}' holds a different file)" if renamed else "")
        return Placed(candidate.name, candidate, size, digest, "saved", message, renamed_from=renamed)
    tmp.unlink(missing_ok=True)
    raise UploadRefused(f"too many files called '{name}' in the inbox; rename the file", status=409)


def cleanup_stale_temps(inbox: Path, older_than: float = 24 * 3600) -> None:
    """Remove temporary upload files a crashed server left behind."""
    import time

    if not inbox.exists():
        return
    for p in inbox.glob(f"{TEMP_PREFIX}*.part"):
        try:
            if time.time() - p.stat().st_mtime > older_than:
                p.unlink()
        except OSError:
            pass


# -- receiving --------------------------------------------------------------------------------------
@dataclass
class Received:
    """A multipart upload streamed to a temporary file in the inbox (not yet checked or named)."""

    client_name: str
    tmp: Path
    size: int
    fields: dict[str, str]


async def receive_upload(request, inbox: Path, *, csrf_session: dict | None = None,
                         file_field: str = "file") -> Received:
    """Stream the multipart body of ``request`` into a temporary file in ``inbox``.

    ``csrf_session``: for HTML forms, the session whose CSRF token the form's ``csrf_token``
    field must carry before the file starts (the form puts it first), so a forged form is refused
    before a byte is written. Raises :class:`UploadRefused` (and deletes the temporary file).
    """
    from python_multipart.multipart import MultipartParser, parse_options_header

    from marketops.app.security import CSRF_FIELD, csrf_matches

    content_type, options = parse_options_header(request.headers.get("content-type", ""))
    if content_type != b"multipart/form-data" or not options.get(b"boundary"):
        raise UploadRefused("send the file as multipart/form-data in a field called 'file'", status=415)
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > MAX_UPLOAD_BYTES + 64 * 1024:
        raise UploadRefused(f"the file is larger than the upload limit of {human_size(MAX_UPLOAD_BYTES)}; "
                            "copy big exports into the workspace's inbox folder instead", status=413)

    state = {"headers": [], "name": b"", "value": b"", "field": None, "filename": None, "data": bytearray(),
             "file": None}
    fields: dict[str, str] = {}
    received = {"name": None, "size": 0, "ended": False}
    tmp = temp_path(inbox)
    out = None

    def refuse(message: str, status: int = 400):
        raise UploadRefused(message, status)

    def on_header_field(data, start, end):
        state["name"] += data[start:end]

    def on_header_value(data, start, end):
        state["value"] += data[start:end]

    def on_header_end():
        state["headers"].append((state["name"].lower(), state["value"]))
        state["name"], state["value"] = b"", b""

    def on_part_begin():
        state.update(headers=[], field=None, filename=None, data=bytearray(), file=None)

    def on_headers_finished():
        nonlocal out
        disposition = next((v for k, v in state["headers"] if k == b"content-disposition"), b"")
        _, opts = parse_options_header(disposition)
        state["field"] = opts.get(b"name", b"").decode("utf-8", "replace")
        if b"filename" in opts and state["field"] == file_field:
            if received["name"] is not None:
                refuse("upload one file at a time")
            if csrf_session is not None and not csrf_matches(csrf_session, fields.get(CSRF_FIELD)):
                raise CsrfRefused()
            received["name"] = browser_filename(opts[b"filename"])
            safe_upload_name(received["name"])  # refuse a bad name before a byte is stored
            out = open(tmp, "wb")  # noqa: SIM115  (closed after the last chunk, or on refusal)
            state["file"] = out

    def on_part_data(data, start, end):
        chunk = data[start:end]
        if state["file"] is not None:
            received["size"] += len(chunk)
            if received["size"] > MAX_UPLOAD_BYTES:
                refuse(f"the file is larger than the upload limit of {human_size(MAX_UPLOAD_BYTES)}; "
                       "copy big exports into the workspace's inbox folder instead", 413)
            state["file"].write(chunk)
        else:
            if len(state["data"]) + len(chunk) > MAX_FIELD_BYTES:
                refuse("a form field is too long")
            state["data"].extend(chunk)

    def on_end():
        received["ended"] = True

    def on_part_end():
        if state["file"] is None and state["field"]:
            if len(fields) >= 20:
                refuse("too many form fields")
            fields[state["field"]] = state["data"].decode("utf-8", "replace")

    parser = MultipartParser(options[b"boundary"], {
        "on_part_begin": on_part_begin, "on_part_data": on_part_data, "on_part_end": on_part_end,
        "on_header_field": on_header_field, "on_header_value": on_header_value, "on_header_end": on_header_end,
        "on_headers_finished": on_headers_finished, "on_end": on_end})
    try:
        async for chunk in request.stream():
            parser.write(chunk)
        parser.finalize()
        if not received["ended"]:  # the closing boundary never came: the client stopped mid-way
            raise ValueError("incomplete body")
    except (UploadRefused, CsrfRefused):
        _discard(out, tmp)
        raise
    except Exception as e:  # noqa: BLE001  (a malformed body, or the client went away mid-upload)
        _discard(out, tmp)
        raise UploadRefused(f"the upload did not arrive whole ({type(e).__name__}); try again") from None
    if out is not None:
        out.close()
    if received["name"] is None:
        _discard(None, tmp)
        if csrf_session is not None and not csrf_matches(csrf_session, fields.get(CSRF_FIELD)):
            raise CsrfRefused()
        raise UploadRefused("choose a file to upload (form field 'file')")
    return Received(received["name"], tmp, received["size"], fields)


def browser_filename(raw: bytes) -> str:
    """The file name a browser sent: the HTML standard escapes ``"``, CR and LF as %22, %0D, %0A.

    >>> browser_filename(b'My %22best%22 leads%0A.csv')
    'My "best" leads\\n.csv'
    """
    name = raw.decode("utf-8", "replace")
    return re.sub(r"%(22|0D|0A)", lambda m: {"22": '"', "0D": "\r", "0A": "\n"}[m.group(1).upper()], name,
                  flags=re.IGNORECASE)


class CsrfRefused(Exception):
    """The form's CSRF token is missing or wrong."""


def _discard(out, tmp: Path) -> None:
    if out is not None:
        try:
            out.close()
        except OSError:
            pass
    tmp.unlink(missing_ok=True)
