"""What maps say, in Chinese (the default) and English."""

from __future__ import annotations

from typing import Literal

from fleet.inventory.models import MARKET_CATEGORY_ZH, MarketCategory

Lang = Literal["zh", "en"]

TEXT: dict[str, dict[str, str]] = {
    "zh": {
        "coverage_title": "机具覆盖图",
        "all_branches": "全行",
        "as_of": "数据截至",
        "not_scored": "尚未评分",
        "layer_terminals": "机具（按状态）",
        "layer_density": "活跃密度（动户率）",
        "layer_markets": "专业市场",
        "layer_branches": "网点及服务半径",
        "layer_white_spots": "空白点（无机具）",
        "legend": "图例",
        "status": "状态",
        "sn": "终端号",
        "phone": "电话",
        "merchant": "商户",
        "code": "编号",
        "last_use": "最近使用",
        "never_used": "从未使用",
        "days_ago": "{n} 天前",
        "txn_30": "近30天交易",
        "txn_unit": "笔",
        "api_link": "终端详情（API）",
        "terminals": "机具",
        "terminals_here": "此处 {n} 台机具",
        "more": "另有 {n} 台",
        "zoom_in": "放大查看",
        "active": "活跃",
        "active_rate": "动户率",
        "merchants": "商户",
        "with_terminal": "有机具商户",
        "coverage": "覆盖率",
        "deployed": "在用机具",
        "trade": "行业",
        "stalls": "摊位",
        "approximate": "位置为近似",
        "white_market": "空白市场：尚无在用机具",
        "white_merchant": "无机具商户：营销机会",
        "white_spots": "无机具商户",
        "white_markets": "空白市场",
        "service_radius": "服务半径",
        "level": "层级",
        "km": "公里",
        "base_map": "底图",
        "no_coordinates": "{n} 台机具的商户没有坐标，未上图",
        "hex": "区域（六边形）",
        "no_data": "无数据",
        "branch": "网点",
        "market": "市场",
    },
    "en": {
        "coverage_title": "Terminal coverage",
        "all_branches": "All branches",
        "as_of": "Data as of",
        "not_scored": "not scored yet",
        "layer_terminals": "Terminals by status",
        "layer_density": "Activity density (active rate)",
        "layer_markets": "Wholesale markets",
        "layer_branches": "Branches and service radius",
        "layer_white_spots": "White spots (no terminal)",
        "legend": "Legend",
        "status": "Status",
        "sn": "Serial no.",
        "phone": "Phone",
        "merchant": "Merchant",
        "code": "Code",
        "last_use": "Last use",
        "never_used": "never used",
        "days_ago": "{n} days ago",
        "days_ago_1": "1 day ago",
        "txn_30": "Transactions, last 30 days",
        "txn_unit": "",
        "api_link": "Terminal details (API)",
        "terminals": "Terminals",
        "terminals_here": "{n} terminals here",
        "terminals_here_1": "1 terminal here",
        "more": "and {n} more",
        "zoom_in": "zoom in",
        "active": "Active",
        "active_rate": "Active rate",
        "merchants": "Merchants",
        "with_terminal": "With a terminal",
        "coverage": "Coverage",
        "deployed": "Deployed terminals",
        "trade": "Trade",
        "stalls": "Stalls",
        "approximate": "approximate location",
        "white_market": "White spot: no deployed terminal",
        "white_merchant": "No terminal: a sales opportunity",
        "white_spots": "Merchants without a terminal",
        "white_markets": "Markets without a terminal",
        "service_radius": "Service radius",
        "level": "Level",
        "km": "km",
        "base_map": "Base map",
        "no_coordinates": "Not shown: {n} terminals whose merchant has no coordinates",
        "hex": "Area (hexagon)",
        "no_data": "no data",
        "branch": "Branch",
        "market": "Market",
    },
}

STATUS: dict[str, dict[str, str]] = {
    "zh": {
        "active": "活跃",
        "declining": "下滑",
        "idle": "闲置",
        "dormant": "休眠",
        "never_used": "从未使用",
        "new": "新布放",
        "unscored": "未评分",
    },
    "en": {
        "active": "Active",
        "declining": "Declining",
        "idle": "Idle",
        "dormant": "Dormant",
        "never_used": "Never used",
        "new": "New",
        "unscored": "Not scored",
    },
}

# Lifecycle states a unit at a merchant can be in (shown when not plainly deployed).
STATE: dict[str, dict[str, str]] = {
    "zh": {
        "deployed": "已布放",
        "recovery_requested": "申请回收中",
        "recovery_approved": "已批准回收",
    },
    "en": {
        "deployed": "Deployed",
        "recovery_requested": "Recovery requested",
        "recovery_approved": "Recovery approved",
    },
}

LEVEL: dict[str, dict[str, str]] = {
    "zh": {"city": "分行", "county": "支行", "outlet": "网点"},
    "en": {"city": "City branch", "county": "County sub-branch", "outlet": "Outlet"},
}


def lang_of(text: str | None) -> Lang:
    """'en' for any English locale (en, en-GB, …), else Chinese."""
    return "en" if (text or "").lower().startswith("en") else "zh"


def trade(category: str, lang: Lang) -> str:
    """A market's trade as a short label: 五金, or 'hardware'."""
    if lang == "en":
        return category.replace("_", " ")
    try:
        return MARKET_CATEGORY_ZH[MarketCategory(category)]
    except ValueError:
        return category
