"""Reading the ledger."""

from __future__ import annotations

from jixiao.ledger.models import Verification


def verification_last() -> Verification | None:
    """The latest run of ``jixiao verify`` (the daily check), or ``None`` before the first."""
    return Verification.objects.order_by("-at", "-id").first()
