"""A printable sheet of QR stickers (one per unit): each a QR code of the unit's report page
(FLEET_PUBLIC_URL/qr/<code>), the shop's name, the unit's SN and how to use it, in Chinese,
laid out for A4 with print CSS; a self-contained HTML file (inline SVG, no script)."""

from __future__ import annotations

import html
import io
from pathlib import Path

import segno

from fleet.aftersales.qr import Sticker
from fleet.core.config import get_settings
from fleet.core.i18n import N_, Lang, texts_for

_PAGE = """<!doctype html>
<html lang="{html_lang}"><head><meta charset="utf-8"><title>{heading}</title>
<style>
@page {{ size: A4; margin: 10mm; }}
body {{ font-family: "Noto Sans CJK SC", "Microsoft YaHei", sans-serif; margin: 0; }}
h1 {{ font-size: 14pt; margin: 0 0 4mm; }}
.sheet {{ display: grid; grid-template-columns: repeat(3, 1fr); gap: 4mm; }}
.sticker {{ border: 1px dashed #888; padding: 3mm; text-align: center; break-inside: avoid; }}
.sticker svg {{ width: 42mm; height: 42mm; }}
.sticker .call {{ font-weight: bold; font-size: 12pt; }}
.sticker .shop, .sticker .sn {{ font-size: 9pt; }}
</style></head><body>
<h1>{heading_counted}</h1>
<div class="sheet">
{stickers}
</div></body></html>
"""
_STICKER = """<figure class="sticker" data-sn="{sn}">
{svg}
<figcaption><div class="call">{call}</div>
<div class="shop">{shop}</div><div class="sn">{unit}</div></figcaption>
</figure>"""


# The sheet's words (service.po); the stickers are for the shops, so Chinese by default.
HEADING = N_("Fault report QR codes · {title}")
HEADING_COUNTED = N_("Fault report QR codes · {title} ({count} stickers)")
CALL = N_("Unit faulty? Scan to report it")
UNIT = N_("Unit {sn}")


def report_url(token: str) -> str:
    return f"{get_settings().public_url.rstrip('/')}/qr/{token}"


def svg_of(url: str) -> str:
    """The URL's QR code as an inline SVG element (error correction M: a scuffed sticker
    still reads)."""
    out = io.BytesIO()
    segno.make_qr(url, error="m").save(out, kind="svg", xmldecl=False, svgns=True, border=2)
    return out.getvalue().decode("utf-8")


def write_sheet(stickers: list[Sticker], title: str, path: Path, lang: Lang = "zh") -> None:
    """Writes the sheet of `stickers` to `path` (HTML, ready to print), in `lang`."""
    t = texts_for(lang)
    parts = [
        _STICKER.format(
            sn=html.escape(s.sn),
            shop=html.escape(s.merchant_name),
            svg=svg_of(report_url(s.token)),
            call=html.escape(t.gettext(CALL)),
            unit=html.escape(t.gettext(UNIT, sn=s.sn)),
        )
        for s in stickers
    ]
    text = _PAGE.format(
        html_lang="zh-CN" if lang == "zh" else "en",
        heading=html.escape(t.gettext(HEADING, title=title)),
        heading_counted=html.escape(t.gettext(HEADING_COUNTED, title=title, count=len(stickers))),
        stickers="\n".join(parts),
    )
    path.write_text(text, encoding="utf-8")
