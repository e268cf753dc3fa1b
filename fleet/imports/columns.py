"""The columns of every import kind, in one table: English name, Chinese aliases, parser.

Headers match case-, space- and underscore-insensitively ("Parent Code" = "parent_code").
Export writes the English names in this order, so an exported file imports unchanged.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from fleet.core import words
from fleet.core.access import Role
from fleet.core.errors import Listed, Reason
from fleet.core.i18n import catalogue
from fleet.imports import values as v
from fleet.inventory.models import (
    BranchLevel,
    MarketCategory,
    MerchantStatus,
    TerminalState,
)


@dataclass(frozen=True)
class Column:
    name: str
    aliases: tuple[str, ...] = ()
    required: bool = False
    parse: v.Parser = v.text

    @property
    def label(self) -> Reason | str:
        """The column in messages: "code (网点编号)" in English, "网点编号（code）" in Chinese."""
        if not self.aliases:
            return self.name
        return Reason("{name} ({alias})", name=self.name, alias=self.aliases[0])


# Each value is read as its code, or its word as the pages show it (core.words, in English
# or Chinese), or one of the other names people write in their sheets.
LEVEL = v.choice(
    Reason("level"),
    BranchLevel,
    words.LEVEL,
    分行="city",
    市分行="city",
    支行="county",
    县支行="county",
    网点="outlet",
    营业网点="outlet",
)
ROLE = v.choice(
    Reason("role"),
    Role,
    words.ROLE,
    管理员="admin",
    运营主管="branch_ops",
    客户经理="field",
    大堂经理="field",
    营销="marketing",
    营销部门="marketing",
    售后="service",
)
LANGUAGE = v.named(
    Reason("language"),
    {"zh": "zh", "en": "en", "中文": "zh", "英文": "en", "english": "en", "chinese": "zh"},
)
CATEGORY = v.choice(
    Reason("market category"),
    MarketCategory,
    words.MARKET_CATEGORY,
)
STATUS = v.choice(
    Reason("merchant status"),
    MerchantStatus,
    words.MERCHANT_STATUS,
    营业="open",
    停业="closed",
    迁址="moved",
)
STATE = v.choice(Reason("terminal state"), TerminalState, words.STATE)

LAT = Column("lat", ("纬度",), parse=v.number)
LNG = Column("lng", ("经度",), parse=v.number)
DATUM = Column("coord_system", ("坐标系",), parse=v.datum)
ADDRESS = Column("address", ("地址",))


def _branch_ref(first_alias: str, *, required: bool = False) -> Column:
    # People also write the plain 网点编号 / 机构号 for "the branch this belongs to".
    aliases = (first_alias, "网点编号", "机构号", "所属机构号")
    return Column("branch_code", aliases, required=required, parse=v.code)


COLUMNS: dict[str, tuple[Column, ...]] = {
    "branches": (
        Column("code", ("网点编号", "机构号"), required=True, parse=v.code),
        Column("name", ("网点名称", "机构名称"), required=True),
        Column("level", ("层级",), parse=LEVEL),
        Column("parent_code", ("上级网点编号", "上级机构号"), parse=v.code),
        ADDRESS,
        LAT,
        LNG,
        DATUM,
    ),
    "staff": (
        Column("username", ("工号", "用户名"), required=True, parse=v.code),
        Column("full_name", ("姓名",)),
        Column("role", ("角色",), parse=ROLE),
        _branch_ref("所属网点编号", required=True),
        Column("phone", ("电话", "手机")),
        Column("language", ("语言",), parse=LANGUAGE),
        Column("password", ("初始密码",)),
    ),
    "markets": (
        Column("code", ("市场编号",), required=True, parse=v.code),
        Column("name", ("市场名称",), required=True),
        Column("category", ("类别",), parse=CATEGORY),
        LAT,
        LNG,
        DATUM,
        Column("radius_m", ("半径米", "半径"), parse=v.number),
        Column("polygon", ("范围",), parse=v.polygon),
        Column("stalls", ("摊位数",), parse=v.whole),
        Column("approximate", ("坐标近似",), parse=v.boolean),
        ADDRESS,
        _branch_ref("负责网点编号"),
    ),
    "merchants": (
        Column("code", ("商户编号",), required=True, parse=v.code),
        Column("name", ("商户名称",), required=True),
        Column("category", ("行业",)),
        ADDRESS,
        LAT,
        LNG,
        DATUM,
        Column("opening_hours", ("营业时间",)),
        Column("contact_name", ("联系人",)),
        Column("phone", ("联系电话",)),
        Column("status", ("状态",), parse=STATUS),
        _branch_ref("所属网点编号", required=True),
        Column("market_code", ("所属市场编号",), parse=v.code),
        Column("staff_username", ("客户经理工号",), parse=v.code),
    ),
    "terminals": (
        Column("sn", ("终端号", "机具编号", "序列号"), required=True, parse=v.code),
        Column("model", ("型号",)),
        _branch_ref("所属网点编号", required=True),
        Column("state", ("状态",), parse=STATE),
        Column("merchant_code", ("商户编号",), parse=v.code),
        Column("deployed_at", ("布放日期",), parse=v.moment),
    ),
}

# What each kind is called in messages and on the import page.
KIND_WORDS = {
    "branches": Reason("branches"),
    "staff": Reason("staff"),
    "markets": Reason("markets"),
    "merchants": Reason("merchants"),
    "terminals": Reason("terminals"),
}

# A rejects file carries these after the original columns; they are ignored on import (by
# these names, or as the import page writes them in Chinese), so a corrected rejects file can
# be imported as it is.
REJECT_COLUMNS = ("row", "column", "reason")
REJECT_WORDS = (Reason("rejected row"), Reason("column at fault"), Reason("why rejected"))


def header_key(text: str) -> str:
    """The comparable form of a header: NFKC, lower case, no spaces, underscores or hyphens."""
    return re.sub(r"[\s_\-]+", "", unicodedata.normalize("NFKC", text)).lower()


_IGNORED = {header_key(name) for name in REJECT_COLUMNS} | {
    header_key(catalogue("zh").get(word.template, word.template)) for word in REJECT_WORDS
}


def is_reject_column(header: str) -> bool:
    """A column a rejects file adds (row, column, reason), which import ignores."""
    return header_key(header) in _IGNORED


def column_word(kind: str, name: str | None) -> str:
    """A column as a Chinese reader knows it (its first Chinese alias), else its name."""
    for column in COLUMNS.get(kind, ()):
        if column.name == name and column.aliases:
            return column.aliases[0]
    return name or ""


@dataclass
class Header:
    """Where each known column sits in a file, and which positions have no name."""

    columns: dict[int, Column]
    unnamed: set[int]
    width: int


def match_headers(kind: str, headers: list[str]) -> tuple[Header, list[tuple[str, Reason]]]:
    """The header's layout, and (column, reason) for every problem with it."""
    lookup = {header_key(n): c for c in COLUMNS[kind] for n in (c.name, *c.aliases)}
    layout = Header(columns={}, unnamed=set(), width=len(headers))
    seen: dict[str, str] = {}
    problems: list[tuple[str, Reason]] = []
    for position, header in enumerate(headers):
        key = header_key(header)
        column = lookup.get(key)
        if not key:
            layout.unnamed.add(position)
        elif key in _IGNORED:
            continue
        elif column is None:
            known = Listed(c.label for c in COLUMNS[kind])
            problems.append(
                (
                    header,
                    Reason(
                        "unknown column {header!r} for {kind}; known: {known}",
                        header=header,
                        kind=KIND_WORDS[kind],
                        known=known,
                    ),
                )
            )
        elif column.name in seen:
            problems.append(
                (
                    header,
                    Reason(
                        "column {column} appears twice ({first!r} and {second!r})",
                        column=column.label,
                        first=seen[column.name],
                        second=header,
                    ),
                )
            )
        else:
            seen[column.name] = header
            layout.columns[position] = column
    for column in COLUMNS[kind]:
        if column.required and column.name not in seen:
            problems.append(
                (column.name, Reason("required column {column} is missing", column=column.label))
            )
    return layout, problems
