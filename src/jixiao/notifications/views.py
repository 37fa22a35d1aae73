"""The notification inbox: a user's own notifications, mark read one by one or all at once."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from jixiao.accounts.permissions import request_user
from jixiao.notifications import selectors, services
from jixiao.web.paging import paginate


@login_required
def inbox(request: HttpRequest) -> HttpResponse:
    user = request_user(request)
    only_unread = request.GET.get("unread") == "1"
    items = selectors.unread_for(user) if only_unread else selectors.inbox(user)
    return render(
        request,
        "notifications/inbox.html",
        {"page": paginate(request, items), "only_unread": only_unread},
    )


@login_required
def open_notification(request: HttpRequest, pk: int) -> HttpResponse:
    """Mark the notification read and go to the thing it is about."""
    user = request_user(request)
    notification = get_object_or_404(selectors.inbox(user), pk=pk)
    services.notification_mark_read(user=user, notification=notification)
    safe = url_has_allowed_host_and_scheme(notification.link, allowed_hosts={request.get_host()})
    return redirect(notification.link if notification.link and safe else "notifications:inbox")


@login_required
@require_POST
def mark_read(request: HttpRequest, pk: int) -> HttpResponse:
    user = request_user(request)
    notification = get_object_or_404(selectors.inbox(user), pk=pk)
    services.notification_mark_read(user=user, notification=notification)
    return redirect("notifications:inbox")


@login_required
@require_POST
def mark_all_read(request: HttpRequest) -> HttpResponse:
    count = services.notifications_mark_all_read(user=request_user(request))
    messages.success(request, _("已将 %(n)d 条通知标为已读") % {"n": count})
    return redirect("notifications:inbox")
