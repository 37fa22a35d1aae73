from __future__ import annotations

import logging

import pytest

from jixiao.surveys.senders import LogSender


def test_the_log_sender_never_writes_the_rating_link(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="jixiao.surveys.senders"):
        LogSender().send(
            channel="sms", recipient="13812345678", text="请评价：https://x/surveys/r/SECRET-TOKEN/"
        )
    assert caplog.records
    assert "SECRET-TOKEN" not in caplog.text
    assert "13812345678" not in caplog.text
