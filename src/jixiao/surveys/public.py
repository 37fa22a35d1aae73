"""The anonymous public pages: a survey link, its thank-you page and a one-time rating link.

No login, Chinese, mobile-first, tiny. Every outcome a citizen can meet (closed survey, unknown
link, too many submissions, a duplicate, a used or expired rating link, a database hiccup) is a
friendly Chinese page, never a raw error. CSRF protection is off here on purpose: the forms carry
no authority a forged cross-site post could borrow (they are anonymous and open to anyone), and an
expired CSRF cookie would show a citizen Django's 403 page.
"""

from __future__ import annotations

import logging

from django.db import DatabaseError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from jixiao.surveys import antiabuse, ratetime
from jixiao.surveys.submit import TargetSnapshot, parse_answer, response_insert, snapshot

logger = logging.getLogger(__name__)

NO_STORE = "no-store"


def _message(request: HttpRequest, title: str, text: str, status: int = 200) -> HttpResponse:
    response = render(request, "surveys/public/message.html", {"title": title, "text": text}, status=status)
    response["Cache-Control"] = NO_STORE
    return response


def _busy(request: HttpRequest) -> HttpResponse:
    response = _message(
        request,
        _("提交太频繁了"),
        _("您的提交有些频繁，请休息一两分钟后再试。您的意见对我们很重要，感谢您的耐心！"),
        status=429,
    )
    response["Retry-After"] = "60"
    return response


def _unavailable(request: HttpRequest) -> HttpResponse:
    return _message(
        request, _("系统繁忙"), _("系统暂时繁忙，请稍后再试。给您带来不便，敬请谅解。"), status=503
    )


def _form(
    request: HttpRequest, snap: TargetSnapshot, token: str, missing: list[str] | None = None
) -> HttpResponse:
    options = list(enumerate(label for label, _points in snap.scale))
    chosen = (
        {item: request.POST.get(f"q_{item}", "") for item, _t in snap.questions}
        if missing is not None
        else {}
    )
    questions = [
        {
            "item": item,
            "text": text,
            "missing": bool(missing and item in missing),
            "chosen": chosen.get(item, ""),
        }
        for item, text in snap.questions
    ]
    response = render(
        request,
        "surveys/public/survey.html",
        {
            "snap": snap,
            "token": token,
            "questions": questions,
            "options": options,
            "missing": missing,
            "picked_tags": request.POST.getlist("tag") if missing is not None else [],
            "opinion": request.POST.get("opinion", "") if missing is not None else "",
        },
    )
    antiabuse.ensure_device_cookie(request, response)
    response["Cache-Control"] = NO_STORE
    return response


@csrf_exempt
@require_http_methods(["GET", "HEAD", "POST"])
def survey_page(request: HttpRequest, token: str) -> HttpResponse:
    """Show the questionnaire (GET) or record an answer (POST → thank-you page)."""
    try:
        snap = snapshot(token)
    except DatabaseError:
        logger.exception("survey snapshot failed")
        return _unavailable(request)
    if snap is None:
        return _message(
            request, _("链接无效"), _("没有找到这份问卷，请核对二维码或链接是否完整。"), status=404
        )
    if not snap.is_open:
        return _message(request, _("调查已结束"), _("这份问卷目前不接受填写，感谢您的关注！"))
    if request.method != "POST":
        return _form(request, snap, token)

    device = antiabuse.device_id(request)
    if not antiabuse.Limiters.address().allow(antiabuse.client_address(request)):
        return _busy(request)
    if device is not None and not antiabuse.Limiters.device().allow(device):
        return _busy(request)
    answer, missing = parse_answer(snap, request.POST)
    if answer is None:
        return _form(request, snap, token, missing)
    try:
        created = response_insert(
            snap=snap,
            answer=answer,
            device=antiabuse.device_digest(device) if device else None,
            address=antiabuse.address_digest(antiabuse.client_address(request)),
        )
    except DatabaseError:
        logger.exception("survey answer insert failed")
        return _unavailable(request)
    if created is None:
        return _thanks(request, snap, duplicate=True)
    # A suspect answer gets the same thank-you page: telling the sender would teach the limit.
    return redirect("surveys:public_thanks", token=token, permanent=False)


def _thanks(request: HttpRequest, snap: TargetSnapshot | None, *, duplicate: bool = False) -> HttpResponse:
    response = render(request, "surveys/public/thanks.html", {"snap": snap, "duplicate": duplicate})
    response["Cache-Control"] = NO_STORE
    return response


@require_http_methods(["GET", "HEAD"])
def thanks_page(request: HttpRequest, token: str) -> HttpResponse:
    try:
        snap = snapshot(token)
    except DatabaseError:
        snap = None
    return _thanks(request, snap)


# An old-form link's token, kept in the session between its one redirect and the rating page.
SESSION_TOKEN = "surveys.rate_token"


@csrf_exempt
@require_http_methods(["GET", "HEAD", "POST"])
def rate_legacy(request: HttpRequest, token: str) -> HttpResponse:
    """An old-form link ``/surveys/r/<token>/``: the token goes into the session and the browser
    to the token-free ``/surveys/r/``, so the address bar, the history, a Referer and every later
    log line hold no token (this one request's line is scrubbed by ``web.logscrub``)."""
    request.session[SESSION_TOKEN] = token
    response = redirect("surveys:public_rate")
    response["Cache-Control"] = NO_STORE
    response["Referrer-Policy"] = "no-referrer"
    return response


@csrf_exempt
@require_http_methods(["GET", "HEAD", "POST"])
def rate_page(request: HttpRequest) -> HttpResponse:
    """The one-time rating link of a service event (``/surveys/r/#<token>``): 10-point score plus
    tags. The token travels in the URL fragment, which browsers never send; the start page's
    script (``surveys/rate_open.js``) posts it, and the rating form carries it back in its body,
    as ballot codes do, so no request path ever holds it."""
    if request.method == "POST":
        token = request.POST.get("token", "").strip()
    else:
        token = str(request.session.pop(SESSION_TOKEN, "") or "")
    if not token:
        return _private(render(request, "surveys/public/rate_start.html"))
    try:
        state = ratetime.link_state(token)
    except DatabaseError:
        logger.exception("rating link lookup failed")
        return _unavailable(request)
    if state.status == ratetime.LinkStatus.UNKNOWN:
        return _message(
            request, _("链接无效"), _("没有找到这条评价链接，请核对短信或微信中的链接是否完整。"), status=404
        )
    if state.status == ratetime.LinkStatus.USED:
        return _message(
            request, _("您已评价过"), _("这次服务已经评价过了，每条链接只能评价一次。感谢您的参与！")
        )
    if state.status == ratetime.LinkStatus.EXPIRED:
        return _message(
            request,
            _("链接已过期"),
            _("评价链接的有效期为 %(days)d 天，这条链接已经过期。感谢您的关注！")
            % {"days": state.valid_days},
        )
    error = ""
    if request.method == "POST" and "score" in request.POST:
        if not antiabuse.Limiters.address().allow(antiabuse.client_address(request)):
            return _busy(request)
        raw_score = request.POST.get("score", "")
        if raw_score.isdigit() and 1 <= int(raw_score) <= 10:
            try:
                outcome = ratetime.rating_submit(
                    token=token,
                    score=int(raw_score),
                    tags=request.POST.getlist("tag"),
                    opinion=request.POST.get("opinion", ""),
                )
            except DatabaseError:
                logger.exception("rating insert failed")
                return _unavailable(request)
            if outcome == ratetime.LinkStatus.OPEN:
                return _message(request, _("感谢您的评价"), _("您的评价已收到，我们会持续改进服务。"))
            # Another tab used the link a moment ago, or it expired while the page was open.
            return _message(request, _("您已评价过"), _("这条链接已经使用或已过期。感谢您的参与！"))
        error = _("请先选择 1–10 分")
    return _private(
        render(
            request,
            "surveys/public/rate.html",
            {
                "state": state,
                "token": token,
                "scores": range(1, 11),
                "error": error,
                "picked_tags": request.POST.getlist("tag"),
            },
        )
    )


def _private(response: HttpResponse) -> HttpResponse:
    """A page that holds (or fetches) a rating token: never cached, never sent as a Referer."""
    response["Cache-Control"] = NO_STORE
    response["Referrer-Policy"] = "no-referrer"
    return response
