"""The REST API service systems use to post service events (django-ninja, OpenAPI described).

Authentication: ``Authorization: Bearer <token>`` with a ServiceToken the office issued; a token is
scoped to one unit and may only post events of that unit and its officials. Missing, unknown or
revoked tokens get 401, another unit's events 403.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from django.core.exceptions import ValidationError
from django.http import HttpRequest
from ninja import Field, NinjaAPI, Schema, Status
from ninja.errors import HttpError
from ninja.security import HttpBearer

from jixiao.organisation.models import Official, Unit
from jixiao.surveys import ratetime, services
from jixiao.surveys.models import EventChannel, ServiceEvent, ServiceToken


class ServiceTokenAuth(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str) -> ServiceToken | None:
        return services.service_token_authenticate(token)


api = NinjaAPI(
    title="绩效 · 随时评接口",
    version="1.0",
    description=(
        "服务系统登记服务事件，平台生成一次性评价链接（默认 7 天有效）并通过短信或微信发送给服务对象。"
        "联系方式仅用于发送，加密暂存，发送后即删除。"
    ),
    urls_namespace="surveys_api",
    auth=ServiceTokenAuth(),
)


class EventIn(Schema):
    # Bounded as the columns are: longer values were cut silently (an external_ref cut to 64
    # could match another event's) or, on PostgreSQL, refused by the varchar as a 500.
    service: str = Field(max_length=120)
    official_code: str | None = Field(default=None, max_length=32)
    unit_code: str | None = Field(default=None, max_length=32)
    occurred_at: datetime | None = None
    channel: Literal["sms", "wechat", "none"] = "sms"
    contact: str = Field(default="", max_length=64)
    external_ref: str = Field(default="", max_length=64)


class EventOut(Schema):
    id: int
    unit_code: str
    official_code: str | None
    expires_at: datetime
    duplicate: bool
    rated: bool
    link: str | None = None


class ErrorOut(Schema):
    detail: str


def _out(event: ServiceEvent, *, duplicate: bool, link: str | None) -> EventOut:
    return EventOut(
        id=event.pk,
        unit_code=event.unit.code,
        official_code=event.official.code if event.official else None,
        expires_at=event.expires_at,
        duplicate=duplicate,
        rated=event.rated_at is not None,
        link=link,
    )


def _token(request: HttpRequest) -> ServiceToken:
    token = getattr(request, "auth", None)
    if not isinstance(token, ServiceToken):
        raise HttpError(401, "Unauthorized")
    return token


@api.post(
    "/v1/events",
    response={201: EventOut, 200: EventOut, 403: ErrorOut, 422: ErrorOut},
    summary="登记一次服务事件并发送评价链接",
)
def post_event(request: HttpRequest, payload: EventIn) -> Status[EventOut | ErrorOut]:
    """Record a service event of the token's unit. With ``external_ref`` the call is idempotent:
    posting the same reference again returns the existing event (200, ``duplicate: true``). The link
    is returned only for ``channel: none`` (shown to the citizen on the spot); otherwise it goes only
    to the citizen, so the rated unit never holds it."""
    token = _token(request)
    unit: Unit = token.unit
    if payload.unit_code and payload.unit_code != unit.code:
        return Status(403, ErrorOut(detail="token is not valid for this unit"))
    official = None
    if payload.official_code:
        official = Official.objects.filter(code=payload.official_code).first()
        if official is None:
            return Status(422, ErrorOut(detail="unknown official_code"))
        if official.unit_id != unit.pk:
            return Status(403, ErrorOut(detail="official does not belong to the token's unit"))
    try:
        recorded = ratetime.event_record(
            unit=unit,
            official=official,
            service=payload.service,
            occurred_at=payload.occurred_at,
            channel=payload.channel,
            contact=payload.contact,
            external_ref=payload.external_ref,
            service_token=token,
        )
    except ValidationError as exc:
        return Status(422, ErrorOut(detail="; ".join(exc.messages)))
    link = recorded.link if payload.channel == EventChannel.NONE.value else None
    return Status(
        200 if recorded.duplicate else 201, _out(recorded.event, duplicate=recorded.duplicate, link=link)
    )


@api.get("/v1/events/{event_id}", response={200: EventOut, 404: ErrorOut}, summary="查询服务事件的评价状态")
def get_event(request: HttpRequest, event_id: int) -> Status[EventOut | ErrorOut]:
    """Whether the event was rated and until when its link is valid (own unit's events only)."""
    token = _token(request)
    event = (
        ServiceEvent.objects.select_related("unit", "official")
        .filter(pk=event_id, unit_id=token.unit_id)
        .first()
    )
    if event is None:
        return Status(404, ErrorOut(detail="not found"))
    return Status(200, _out(event, duplicate=False, link=None))
