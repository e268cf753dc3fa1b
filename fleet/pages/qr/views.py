"""The merchant's QR page (/qr/{token}), with no account: the shop's name and a fault form
(the symptoms in the merchant's words), nothing else; a forged or old code answers 404 and
opens nothing. Every view and report counts against the client address, and every report
against the unit (fleet.aftersales.qr); past the limit, 429 with the wait in words.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from fleet.aftersales import qr
from fleet.aftersales.models import Symptom
from fleet.auth.browser import same_origin
from fleet.core.config import get_settings
from fleet.core.errors import Forbidden
from fleet.core.i18n import N_
from fleet.core.requests import SessionDep
from fleet.pages import tickets as words
from fleet.pages.render import redirect, render, texts_of

router = APIRouter(prefix="/qr", include_in_schema=False)
THANKS = N_("Thank you: your report has reached the bank's after-sales team.")


def _count_address(request: Request, session: SessionDep) -> None:
    address = request.client.host if request.client else "?"
    qr.throttle(session, f"ip:{address}", get_settings().qr_rate_per_ip)


def _page(
    request: Request,
    session: SessionDep,
    token: str,
    *,
    form: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    t = texts_of(request)
    _, shop = qr.shop_of(session, token)
    return render(
        request,
        "qr/report.html",
        status_code=status_code,
        texts=t,
        title=t.gettext("Report a fault"),
        shop_name=shop.name,
        token=token,
        symptoms=words.symptom_options(t),
        form=form or {},
        errors=errors or {},
    )


@router.get("/{token}")
def report_page(request: Request, token: str, session: SessionDep) -> Response:
    _count_address(request, session)
    return _page(request, session, token)


@router.post("/{token}")
async def report(request: Request, token: str, session: SessionDep) -> Response:
    if not same_origin(request):
        raise Forbidden("this form came from another site")
    _count_address(request, session)
    t = texts_of(request)
    data = await request.form()
    form = {k: v for k, v in data.items() if isinstance(v, str)}
    symptom = form.get("symptom", "")
    note = form.get("note", "").strip()
    errors: dict[str, str] = {}
    if symptom not in {s.value for s in Symptom}:
        errors["symptom"] = t.gettext("Choose what is wrong with the unit.")
    if len(note) > 500:
        errors["note"] = t.gettext("Keep the note under 500 characters.")
    if errors:
        return _page(request, session, token, form=form, errors=errors, status_code=422)
    _, opened = qr.report(session, token, Symptom(symptom), note)
    said = THANKS if opened else N_("This unit's fault is reported already and being handled.")
    return redirect(f"/qr/{token}/sent", t.gettext(said))


@router.get("/{token}/sent")
def sent(request: Request, token: str, session: SessionDep) -> Response:
    t = texts_of(request)
    _, shop = qr.shop_of(session, token)
    return render(
        request,
        "qr/sent.html",
        texts=t,
        title=t.gettext("Report a fault"),
        shop_name=shop.name,
        token=token,
    )
