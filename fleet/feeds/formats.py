"""What a feed looks like: its columns and codes (English, Chinese, or a bank's own via a
mapping file), its encoding, and how its lines are read in blocks without holding the file.
"""

from __future__ import annotations

import codecs
import csv
import gzip
import hashlib
import json
import re
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, cast

from fleet.core.errors import Invalid
from fleet.feeds.models import TxnStatus, TxnType

FIELDS = (
    "txn_ref",
    "terminal_sn",
    "occurred_at",
    "amount",
    "txn_type",
    "status",
    "merchant_code",
    # Optional: the fee the bank charged, in yuan; it wins over the fee schedule (fleet/pay).
    "fee",
)
REQUIRED = FIELDS[:6]

COLUMN_ALIASES: dict[str, str] = {
    "交易流水号": "txn_ref",
    "流水号": "txn_ref",
    "终端号": "terminal_sn",
    "终端编号": "terminal_sn",
    "交易时间": "occurred_at",
    "交易金额": "amount",
    "金额": "amount",
    "交易类型": "txn_type",
    "交易状态": "status",
    "商户编号": "merchant_code",
    "商户号": "merchant_code",
    "手续费": "fee",
} | {name: name for name in FIELDS}

TYPE_ALIASES: dict[str, str] = {
    "转账": "transfer",
    "转账汇款": "transfer",
    "刷卡消费": "card_payment",
    "消费": "card_payment",
    "缴费": "bill_payment",
    "代缴费": "bill_payment",
    "余额查询": "balance_inquiry",
    "查询": "balance_inquiry",
    "冲正": "reversal",
} | {t.value: t.value for t in TxnType}

STATUS_ALIASES: dict[str, str] = {"成功": "success", "失败": "failed"} | {
    s.value: s.value for s in TxnStatus
}

BLOCK_BYTES = 32 << 20
# A block of very short lines is handed on in slices of at most this many lines (a 32 MiB
# block of empty lines would otherwise be 33 million strings at once).
BLOCK_LINES = 250_000


@dataclass(frozen=True)
class Limits:
    """How much of a feed file is read at most (fleet.core.config: FLEET_FEED_MAX_*)."""

    max_bytes: int = 8 << 30
    max_line_bytes: int = 64 << 10
    max_lines: int = 50_000_000

    def check(self, file: str, *, read: int, longest: int, lines: int) -> None:
        """Invalid as soon as what was read so far passes a limit."""
        if read > self.max_bytes:
            raise Invalid(
                "{file} unpacks to more than {limit} bytes (FLEET_FEED_MAX_BYTES); "
                "nothing of it was kept",
                file=file,
                limit=self.max_bytes,
            )
        if longest > self.max_line_bytes:
            raise Invalid(
                "{file} has a line longer than {limit} bytes (FLEET_FEED_MAX_LINE_BYTES); "
                "nothing of it was kept",
                file=file,
                limit=self.max_line_bytes,
            )
        if lines > self.max_lines:
            raise Invalid(
                "{file} has more than {limit} lines (FLEET_FEED_MAX_LINES); nothing of it was kept",
                file=file,
                limit=self.max_lines,
            )


@dataclass(frozen=True)
class TrailerCount:
    """Where a trailer line states the file's number of records: the `field`-th field (from 1,
    split on the delimiter) or the first group of `pattern`, in trailer line `line` (from 1,
    the first line after the records)."""

    field: int | None = None
    pattern: str | None = None
    line: int = 1

    def read(self, trailer: list[str], delimiter: str) -> int | None:
        if self.line > len(trailer):
            return None
        text = trailer[self.line - 1]
        if self.pattern is not None:
            found = re.search(self.pattern, text)
            value = (found.group(1) if found.groups() else found.group(0)) if found else ""
        else:
            parts = next(csv.reader([text], delimiter=delimiter), [])
            value = parts[(self.field or 1) - 1] if len(parts) >= (self.field or 1) else ""
        digits = value.strip().replace(",", "").replace("_", "")
        return int(digits) if digits.isdigit() else None


@dataclass
class Mapping:
    """A bank's own column names and codes, read from a JSON or TOML file (`--mapping`)."""

    columns: dict[str, str] = field(default_factory=dict)
    txn_type: dict[str, str] = field(default_factory=dict)
    status: dict[str, str] = field(default_factory=dict)
    timestamp_format: str | None = None
    encoding: str | None = None
    delimiter: str = ","
    # Lines before the header row (or the first record), and after the last record, that are
    # not records: a bank's title block and its summary line. Not counted in `received`.
    skip_header_lines: int = 0
    skip_trailer_lines: int = 0
    trailer_count: TrailerCount | None = None
    given: bool = False  # read from a file (errors then speak of the file's keys)

    @classmethod
    def load(cls, path: Path | None) -> Mapping:
        if path is None:
            return cls()
        try:
            text = _mapping_text(path.read_bytes())
            data: dict[str, Any] = (
                tomllib.loads(text) if path.suffix.lower() == ".toml" else json.loads(text)
            )
        except (OSError, ValueError) as exc:
            raise Invalid("mapping file {file}: {problem}", file=path.name, problem=exc) from exc
        if not isinstance(data, dict):
            raise Invalid("mapping file {file}: not a JSON or TOML object", file=path.name)
        values = data.get("values", {})
        count = data.get("trailer_count")
        mapping = cls(
            columns={str(k): str(v) for k, v in data.get("columns", {}).items()},
            txn_type={str(k): str(v) for k, v in values.get("txn_type", {}).items()},
            status={str(k): str(v) for k, v in values.get("status", {}).items()},
            timestamp_format=data.get("timestamp_format"),
            encoding=data.get("encoding"),
            delimiter=str(data.get("delimiter", ",")),
            skip_header_lines=_whole(data, "skip_header_lines"),
            skip_trailer_lines=_whole(data, "skip_trailer_lines"),
            trailer_count=_trailer_count(count) if count is not None else None,
            given=True,
        )
        mapping.check()
        return mapping

    def check(self) -> None:
        aliases = {k.lower(): v for k, v in COLUMN_ALIASES.items()}
        for source, target in self.columns.items():
            if target.strip().lower() not in aliases:
                raise Invalid(
                    "mapping: column {column} maps to {target}, which is not one of {fields}",
                    column=repr(source),
                    target=repr(target),
                    fields=", ".join(FIELDS),
                )
            self.columns[source] = aliases[target.strip().lower()]
        for name, codes, known in (
            ("txn_type", self.txn_type, TYPE_ALIASES),
            ("status", self.status, STATUS_ALIASES),
        ):
            for code, value in codes.items():
                # A target is one of fleet's codes, in English or Chinese (刷卡消费).
                if value.strip().lower() not in known:
                    raise Invalid(
                        "mapping: {name} code {code} maps to unknown {value}",
                        name=name,
                        code=repr(code),
                        value=repr(value),
                    )
                codes[code] = known[value.strip().lower()]
        if len(self.delimiter) != 1:
            raise Invalid("mapping: delimiter must be one character")
        if self.trailer_count and self.trailer_count.line > self.skip_trailer_lines:
            raise Invalid(
                "mapping: trailer_count reads trailer line {line}, but skip_trailer_lines is "
                "{lines}",
                line=self.trailer_count.line,
                lines=self.skip_trailer_lines,
            )
        if self.encoding:
            try:
                codecs.lookup(self.encoding)
            except LookupError as exc:
                raise Invalid(
                    "mapping: unknown encoding {encoding}", encoding=repr(self.encoding)
                ) from exc

    def type_codes(self) -> dict[str, str]:
        return TYPE_ALIASES | {k.strip().lower(): v for k, v in self.txn_type.items()}

    def status_codes(self) -> dict[str, str]:
        return STATUS_ALIASES | {k.strip().lower(): v for k, v in self.status.items()}

    def check_count(self, file: str, trailer: list[str], received: int) -> None:
        """The count the file's trailer states against the records read (a mismatch fails the
        run: the file is not the one its bank wrote, or was cut short)."""
        if self.trailer_count is None:
            return
        said = self.trailer_count.read(trailer, self.delimiter)
        if said is None:
            raise Invalid(
                "{file}: the trailer {text} has no count where the mapping's trailer_count says",
                file=file,
                text=repr(trailer[self.trailer_count.line - 1] if trailer else ""),
            )
        if said != received:
            raise Invalid(
                "{file}: the file says {said} lines; read {read}",
                file=file,
                said=f"{said:,}",
                read=f"{received:,}",
            )


def _mapping_text(data: bytes) -> str:
    """A mapping file's text: UTF-8 (with or without BOM), else GBK/GB18030."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030")
    except UnicodeDecodeError as exc:
        raise ValueError("neither UTF-8 nor GBK text") from exc


def _whole(data: dict[str, Any], key: str) -> int:
    value = data.get(key, 0)
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise Invalid("mapping: {key} must be a whole number, 0 or more", key=key)
    return value


def _trailer_count(spec: Any) -> TrailerCount:
    """`{"field": 2}` or `{"pattern": "合计\\|(\\d+)"}`, each maybe with `"line": 1`."""
    ok = isinstance(spec, dict) and (("field" in spec) != ("pattern" in spec))
    line, index, pattern = (
        (spec.get("line", 1), spec.get("field"), spec.get("pattern")) if ok else (1, None, None)
    )
    ok = ok and isinstance(line, int) and line >= 1
    ok = ok and (index is None or (isinstance(index, int) and index >= 1))
    if ok and pattern is not None:
        try:
            ok = isinstance(pattern, str) and re.compile(pattern).groups <= 1
        except re.error:
            ok = False
    if not ok:
        raise Invalid(
            'mapping: trailer_count takes "field" (a field number from 1) or "pattern" (a '
            'regular expression whose one group is the count), and maybe "line"'
        )
    return TrailerCount(field=index, pattern=pattern, line=line)


# Delimiters a bank's export may use instead of the one configured.
OTHER_DELIMITERS = ("|", "\t", ";", ",", "^")


def header_fields(names: list[str], mapping: Mapping, line: str = "") -> list[str | None]:
    """The field each header column feeds (None for columns fleet does not keep)."""
    aliases = {k.lower(): v for k, v in COLUMN_ALIASES.items()}
    aliases |= {k.strip().lower(): v for k, v in mapping.columns.items()}
    fields = [aliases.get(name.strip().lstrip("\ufeff").lower()) for name in names]
    missing = [f for f in REQUIRED if f not in fields]
    if missing:
        raise _header_error(missing, names, mapping, line)
    doubled = sorted({f for f in fields if f is not None and fields.count(f) > 1})
    if doubled:
        raise Invalid("the header names {columns} more than once", columns=", ".join(doubled))
    return fields


def _header_error(missing: list[str], names: list[str], mapping: Mapping, line: str) -> Invalid:
    """What the header lacks, said in the words of the mapping when there is one."""
    if any(not ch.isprintable() and ch not in "\t\r\n" for ch in line):
        # Not text at all (a database, an archive): its bytes are no header to quote.
        return Invalid("the file is not a text (CSV) file: give the transactions' CSV file")
    if len(names) <= 1:
        for other in OTHER_DELIMITERS:
            if other != mapping.delimiter and line.count(other) >= len(REQUIRED) - 1:
                return Invalid(
                    "the header is not split by {delimiter}; it looks {other}-separated: "
                    'set "delimiter" in the mapping to {other}',
                    delimiter=repr(mapping.delimiter),
                    other=repr(other),
                )
    if mapping.given:
        mapped = {target: source for source, target in mapping.columns.items()}
        absent = [f"{mapped[f]!r} ({f})" for f in missing if f in mapped]
        if absent:
            return Invalid(
                "the mapping's columns {columns} are not in the header (found: {found})",
                columns=", ".join(absent),
                found=", ".join(names),
            )
        return Invalid(
            'the header lacks {missing} (found: {found}); name them in the mapping\'s "columns"',
            missing=", ".join(missing),
            found=", ".join(names),
        )
    return Invalid(
        "the header lacks {missing} (found: {found}); "
        "name the columns in English or Chinese, or give --mapping",
        missing=", ".join(missing),
        found=", ".join(names),
    )


# --- reading ---------------------------------------------------------------------------------


def _open(path: Path) -> tuple[IO[bytes], IO[bytes]]:
    """(the decompressed stream, the file underneath it: its position is the progress)."""
    raw = path.open("rb")
    gzipped = raw.read(2) == b"\x1f\x8b"
    raw.seek(0)
    stream = cast(IO[bytes], gzip.GzipFile(fileobj=raw, mode="rb")) if gzipped else raw
    return stream, raw


def detect_encoding(sample: bytes) -> str:
    """utf-8 or gb18030: whichever most non-ASCII lines of the sample decode cleanly in."""
    utf8 = other = 0
    for line in sample.split(b"\n")[:-1] or [sample]:
        if line.isascii():
            continue
        if _decodes(line, "utf-8"):
            utf8 += 1
        elif _decodes(line, "gb18030"):
            other += 1
    return "gb18030" if other > utf8 else "utf-8"


def _decodes(data: bytes, encoding: str) -> bool:
    try:
        data.decode(encoding)
    except UnicodeDecodeError:
        return False
    return True


@dataclass
class FeedFile:
    """A feed file opened for reading in blocks of whole lines, hashing as it goes."""

    path: Path
    encoding: str
    format: str  # csv or ndjson
    size: int
    sha256: str = ""
    position: int = 0

    @classmethod
    def open(cls, path: Path, mapping: Mapping, encoding: str | None = None) -> FeedFile:
        if not path.is_file():
            raise Invalid("{path} is not a file", path=path)
        handle, raw = _open(path)
        with raw, handle:
            try:
                sample = handle.read(1 << 20)
            except (OSError, EOFError) as exc:
                raise Invalid(
                    "{file} cannot be read: {problem}", file=path.name, problem=exc
                ) from exc
        chosen = encoding or mapping.encoding or detect_encoding(sample)
        first = sample.lstrip(codecs.BOM_UTF8).lstrip()[:1]
        suffixes = {s.lower() for s in path.suffixes}
        fmt = "ndjson" if first == b"{" or suffixes & {".ndjson", ".jsonl"} else "csv"
        return cls(path=path, encoding=chosen, format=fmt, size=path.stat().st_size)

    def blocks(self, limits: Limits | None = None) -> Iterator[tuple[int, list[str]]]:
        """(line number of the first line, decoded lines) for each block; hashes the bytes.
        Stops with Invalid as soon as the file passes one of `limits`."""
        limits = limits or Limits()
        digest = hashlib.sha256()
        decoder_name = (
            "utf-8-sig"
            if self.encoding.lower().replace("_", "-") in ("utf-8", "utf8")
            else self.encoding
        )
        line_no, rest, read = 1, b"", 0
        handle, raw = _open(self.path)
        with raw, handle:
            while True:
                try:
                    chunk = handle.read(BLOCK_BYTES)
                except (OSError, EOFError) as exc:
                    raise Invalid(
                        "{file} is damaged: {problem}", file=self.path.name, problem=exc
                    ) from exc
                read += len(chunk)
                digest.update(chunk)
                self.position = raw.tell()
                data = rest + chunk
                if not chunk:
                    if data:
                        limits.check(self.path.name, read=read, longest=len(data), lines=line_no)
                        yield line_no, [_decode(data, decoder_name, line_no == 1)]
                    break
                cut = data.rfind(b"\n") + 1
                rest = data[cut:]
                # The line still open counts too: a line without end is never held whole.
                limits.check(self.path.name, read=read, longest=len(rest), lines=line_no)
                if cut == 0:
                    continue
                for piece in _slices(data, cut):
                    count = piece.count(b"\n")
                    limits.check(self.path.name, read=read, longest=0, lines=line_no + count - 1)
                    text = _decode(piece, decoder_name, line_no == 1)
                    lines = text.split("\n")
                    lines.pop()  # the empty string after the final newline
                    limits.check(
                        self.path.name,
                        read=read,
                        longest=_longest(lines, limits, self.encoding),
                        lines=0,
                    )
                    yield line_no, lines
                    line_no += len(lines)
        self.sha256 = digest.hexdigest()


def _longest(lines: list[str], limits: Limits, encoding: str) -> int:
    """Bytes of the longest line, as far as the limit needs to know: a line is at most four
    bytes a character, so only lines longer than a quarter of the limit are encoded again."""
    quarter = limits.max_line_bytes // 4
    if not lines or max(map(len, lines)) <= quarter:
        return 0
    return max(len(line.encode(encoding, "replace")) for line in lines if len(line) > quarter)


def _slices(data: bytes, cut: int) -> Iterator[bytes]:
    """The whole lines of `data[:cut]` in slices of at most about BLOCK_LINES lines, each
    copied out on its own (never the whole block again)."""
    lines = data.count(b"\n", 0, cut)
    if lines <= BLOCK_LINES:
        yield data if cut == len(data) else data[:cut]
        return
    step = max(cut * BLOCK_LINES // lines, 1)
    start = 0
    while start < cut:
        end = data.rfind(b"\n", start, min(start + step, cut)) + 1
        if end <= start:  # one line longer than the step: up to its end
            end = data.index(b"\n", start) + 1
        yield data[start:end]
        start = end


def _decode(data: bytes, encoding: str, first: bool) -> str:
    # Undecodable bytes become U+FFFD; the validator rejects those lines as bad encoding.
    codec = encoding if first else encoding.replace("-sig", "")
    text = data.decode(codec, errors="replace")
    # Only a replaced byte can have swallowed a line end; the scans are for whole blocks.
    if "\ufffd" in text and text.count("\n") != data.count(b"\n"):
        # A broken multi-byte sequence swallowed a line end: decode line by line instead.
        text = "\n".join(part.decode(codec, errors="replace") for part in data.split(b"\n"))
    return text.replace("\r", "") if "\r" in text else text
