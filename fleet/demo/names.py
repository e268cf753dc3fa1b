"""Name pools for the demo region: people, shops, roads, phone numbers. All of it invented.

Every function takes the caller's `random.Random`, so the output depends on the seed alone.
"""

from __future__ import annotations

import random

# Common surnames in Shandong, weighted roughly by frequency (most common first).
SURNAMES = (
    "王王王张张张刘刘李李陈杨赵孙孙徐高马朱胡郭林何宋郑韩唐冯于于董程曹袁邓许"
    "傅沈彭吕苏卢蒋蔡贾丁魏薛叶阎余潘杜戴夏钟汪田任姜范方石姚谭廖邹熊金陆郝孔"
    "白崔康毛邱秦江史顾侯邵孟龙万段钱汤尹黎易常武乔贺赖龚文庞颜"
)
GIVEN = (
    "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰志红建国文辉鹏飞"
    "海燕春梅晓东波宁斌凤霞雪琳丹萍慧鑫浩宇欣怡俊峰振龙亮成德福庆祥云彬蕾"
    "凯旭阳婷倩晨立新永利宏伟健瑞梓涵子轩一诺佳琪思远"
)

# 字号: the trade name part of a shop's name.
BRANDS = (
    "鑫源",
    "宏达",
    "恒通",
    "金泰",
    "永盛",
    "顺发",
    "福瑞",
    "兴隆",
    "瑞丰",
    "华信",
    "聚鑫",
    "旺达",
    "泰和",
    "昌盛",
    "德誉",
    "利民",
    "众诚",
    "鼎盛",
    "新亚",
    "天成",
    "嘉和",
    "万通",
    "广源",
    "富康",
    "盛世",
    "祥和",
    "金鼎",
    "益民",
    "诚信",
    "东升",
    "同福",
    "源丰",
    "宝丰",
    "恒昌",
    "永兴",
    "鸿运",
    "隆鑫",
    "正泰",
    "蒙山",
    "沂蒙",
    "琅琊",
    "沂河",
    "荣达",
    "鑫旺",
    "金山",
    "鲁东",
    "润泽",
    "安康",
    "吉祥",
    "大众",
)

ROADS = (
    "人民路",
    "建设路",
    "解放路",
    "新华路",
    "和平路",
    "文化路",
    "中心街",
    "商业街",
    "府前街",
    "东关街",
    "西关街",
    "南关街",
    "北关街",
    "振兴路",
    "团结路",
    "光明路",
    "胜利路",
    "育英街",
    "滨河路",
    "工业路",
    "开发区大道",
    "站前街",
)

MOBILE_PREFIXES = ("138", "139", "135", "137", "150", "151", "152", "158", "186", "187", "188")

# Shops around towns: (category, weight in the district centres, weight in the counties).
TOWN_CATEGORIES: tuple[tuple[str, int, int], ...] = (
    ("便利店", 20, 18),
    ("超市", 8, 8),
    ("药店", 8, 7),
    ("农资店", 2, 12),
    ("餐馆", 15, 11),
    ("五金店", 5, 6),
    ("手机通讯", 6, 4),
    ("烟酒店", 6, 6),
    ("粮油店", 4, 6),
    ("服装店", 6, 4),
    ("建材店", 4, 4),
    ("汽修店", 4, 4),
    ("诊所", 3, 3),
    ("快递驿站", 3, 2),
)

# Name templates per category: {b} brand, {s} surname, {p} place (district/county short name).
_TEMPLATES: dict[str, tuple[str, ...]] = {
    "便利店": ("{b}便利店", "{s}家便利店", "{b}便民超市", "{p}{b}便利店"),
    "超市": ("{b}超市", "{p}{b}购物广场", "{b}生活超市", "{s}记超市"),
    "药店": ("{b}大药房", "{b}药店", "{p}{b}医药连锁", "{b}堂大药房"),
    "农资店": ("{s}记农资店", "{b}农资经营部", "{b}种子化肥门市部", "{p}{b}农资店"),
    "餐馆": ("{s}记糁馆", "{s}记炒鸡", "{b}煎饼铺", "{s}家水饺", "{b}饭店", "老{s}羊肉汤"),
    "五金店": ("{b}五金店", "{s}记五金", "{b}五金电料"),
    "手机通讯": ("{b}通讯", "{b}手机店", "{s}记手机维修"),
    "烟酒店": ("{b}烟酒店", "{b}名烟名酒", "{s}记烟酒副食"),
    "粮油店": ("{b}粮油店", "{s}记粮油", "{b}米面粮油"),
    "服装店": ("{b}服饰", "{b}服装店", "{s}记童装"),
    "建材店": ("{b}建材店", "{b}装饰材料", "{s}记瓷砖"),
    "汽修店": ("{b}汽修", "{s}记汽车修理部", "{b}轮胎店"),
    "诊所": ("{s}氏诊所", "{b}诊所", "{p}{b}卫生室"),
    "快递驿站": ("{b}快递驿站", "{s}记快递代收点"),
}

# Shops inside a market, named after its trade (e.g. 五金, 建材).
_MARKET_TEMPLATES = (
    "{q}{b}{t}商行",
    "{q}{b}{t}经营部",
    "{b}{t}批发部",
    "{s}记{t}",
    "{b}{t}门市部",
    "{q}{b}{t}销售中心",
    "山东{b}{t}有限公司",
)

# Opening hours by kind of shop.
_HOURS: dict[str, tuple[str, ...]] = {
    "便利店": ("07:00-22:00", "06:30-21:30", "00:00-24:00", "07:30-21:00"),
    "超市": ("08:00-21:00", "07:30-21:30", "08:30-21:00"),
    "药店": ("08:00-21:00", "07:30-20:30", "08:00-20:00"),
    "餐馆": ("10:00-14:00,16:30-21:30", "06:00-10:00", "10:30-14:00,17:00-22:00"),
    "诊所": ("08:00-12:00,14:00-18:00", "07:30-11:30,13:30-17:30"),
    "药材": ("06:00-11:00", "06:30-11:30"),
    "market": ("07:30-17:30", "08:00-17:00", "07:00-18:00", "08:00-12:00,13:30-17:30"),
}
_DEFAULT_HOURS = ("07:30-19:00", "08:00-18:00", "08:00-12:00,13:30-18:00", "07:00-19:30")


def person_name(rng: random.Random) -> str:
    given = rng.choice(GIVEN) + (rng.choice(GIVEN) if rng.random() < 0.7 else "")
    return rng.choice(SURNAMES) + given


def mobile(rng: random.Random) -> str:
    """A made-up mobile number (11 digits)."""
    return rng.choice(MOBILE_PREFIXES) + f"{rng.randrange(10**8):08d}"


def contact_phone(rng: random.Random) -> str:
    """A merchant's phone: mostly a mobile, sometimes a Linyi landline (area code 0539)."""
    if rng.random() < 0.15:
        return f"0539-{rng.randrange(2, 9)}{rng.randrange(10**6):06d}"
    return mobile(rng)


def town_shop_name(rng: random.Random, category: str, place: str) -> str:
    template = rng.choice(_TEMPLATES[category])
    return template.format(b=rng.choice(BRANDS), s=rng.choice(SURNAMES), p=place)


def market_shop_name(rng: random.Random, trade: str, qualifier: str) -> str:
    """A shop in a market; `qualifier` is a legal-name prefix such as 临沂市兰山区."""
    template = rng.choice(_MARKET_TEMPLATES)
    return template.format(q=qualifier, b=rng.choice(BRANDS), s=rng.choice(SURNAMES), t=trade)


def opening_hours(rng: random.Random, kind: str) -> str:
    return rng.choice(_HOURS.get(kind, _DEFAULT_HOURS))


def street_address(rng: random.Random, place: str) -> str:
    return f"{place}{rng.choice(ROADS)}{rng.randrange(1, 300)}号"
