"""What maps say, in Chinese (the default) and English."""

from __future__ import annotations

from fleet.core.i18n import Lang, lang_of
from fleet.core.words import USAGE, said
from fleet.inventory.models import MARKET_CATEGORY_ZH, MarketCategory

__all__ = ["Lang", "lang_of"]  # with the tables below: what maps say

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
        "layer_tickets": "故障工单（红：超时；黄：2小时内到期；绿：未超时；灰：暂停）",
        "ticket": "工单",
        "hours_left": "剩余 {h} 个工作小时",
        "hours_late": "已超时 {h} 个工作小时",
        "clock_paused": "计时已暂停",
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
        "routes_title": "回访路线图",
        "stop": "第 {n} 站",
        "arrival": "计划到达",
        "departure": "计划离开",
        "reason": "回访原因",
        "navigate": "高德导航",
        "start_end": "出发 / 返回",
        "depart": "出发",
        "back": "返回",
        "stops": "站",
        "people": "{n} 人",
        "distance": "里程",
        "no_stops": "当天没有回访",
        "m": "米",
        "tiles_note": "底图 {name} 的瓦片来自互联网：行内网络上底图会是灰色。"
        "请设置 FLEET_MAP_TILES_URL，使用行内的瓦片服务器。",
        "back_field": "← 返回今日拜访",
        "back_plans": "← 返回回访计划",
        "campaign_title": "营销活动地图",
        "layer_c_market": "活动市场",
        "layer_c_prospects": "意向商户（按结果）",
        "layer_c_placed": "已布放机具",
        "layer_c_set_aside": "预留机具所在网点",
        "prospects": "意向商户",
        "priority": "优先级",
        "staff": "负责人",
        "placed_on": "布放日期",
        "state": "状态",
        "units_set_aside": "预留机具",
        "in_stock": "仍在库",
        "target": "目标",
        "period": "活动期",
        "placed": "已布放",
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
        "layer_tickets": "Fault tickets (red: late, amber: due in 2 h, green: on time)",
        "ticket": "Ticket",
        "hours_left": "{h} business hours left",
        "hours_late": "{h} business hours late",
        "clock_paused": "Clock paused",
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
        "routes_title": "Visit routes",
        "stop": "Stop {n}",
        "arrival": "Planned arrival",
        "departure": "Planned departure",
        "reason": "Why",
        "navigate": "Navigate (AMap)",
        "start_end": "Start / end",
        "depart": "Leaves",
        "back": "Back",
        "stops": "stops",
        "stops_1": "stop",
        "people": "{n} people",
        "people_1": "1 person",
        "distance": "Distance",
        "no_stops": "no visits this day",
        "m": "m",
        "tiles_note": "The {name} base map's tiles come from the internet: on the bank's "
        "intranet the map stays grey. Set FLEET_MAP_TILES_URL to the bank's own tile server.",
        "back_field": "← Back to today's visits",
        "back_plans": "← Back to the visit plans",
        "campaign_title": "Campaign map",
        "layer_c_market": "Campaign market",
        "layer_c_prospects": "Prospects by outcome",
        "layer_c_placed": "Units placed",
        "layer_c_set_aside": "Branches holding set-aside units",
        "prospects": "Prospects",
        "priority": "Priority",
        "staff": "Staff",
        "placed_on": "Placed on",
        "state": "State",
        "units_set_aside": "Units set aside",
        "in_stock": "still in stock",
        "target": "Target",
        "period": "Period",
        "placed": "Placed",
    },
}

# Usage statuses and lifecycle states in the pages' words (core.words, one word per status).
STATUS: dict[str, dict[str, str]] = {
    lang: {key: said("usage", key, lang) for key in USAGE}
    | {"unscored": {"zh": "未评分", "en": "Not scored"}[lang]}
    for lang in ("zh", "en")
}

# Lifecycle states a unit at a merchant can be in (shown when not plainly deployed).
STATE: dict[str, dict[str, str]] = {
    lang: {
        key: said("state", key, lang)
        for key in ("deployed", "recovery_requested", "recovery_approved")
    }
    for lang in ("zh", "en")
}

# Campaign prospects by outcome (fleet.markets.models.ProspectStatus).
PROSPECT: dict[str, dict[str, str]] = {
    "zh": {"placed": "已布放", "visited": "已走访", "pending": "待走访", "declined": "已拒绝"},
    "en": {"placed": "Placed", "visited": "Visited", "pending": "Pending", "declined": "Declined"},
}

LEVEL: dict[str, dict[str, str]] = {
    "zh": {"city": "分行", "county": "支行", "outlet": "网点"},
    "en": {"city": "City branch", "county": "County sub-branch", "outlet": "Outlet"},
}


def trade(category: str, lang: Lang) -> str:
    """A market's trade as a short label: 五金, or 'hardware'."""
    if lang == "en":
        return category.replace("_", " ")
    try:
        return MARKET_CATEGORY_ZH[MarketCategory(category)]
    except ValueError:
        return category
