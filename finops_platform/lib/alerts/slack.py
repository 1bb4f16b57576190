"""Post alerts to a Slack incoming webhook with slack_sdk.

The webhook URL is a secret: it is never logged and never put in an error message.
"""

from __future__ import annotations

import logging
import urllib.error

from slack_sdk.webhook import WebhookClient

from finops_platform.lib.alerts.book import NotifyError

# slack_sdk logs request URLs at DEBUG: keep its logger above that, so the webhook never shows.
_QUIET = logging.getLogger("finops.slack")
_QUIET.setLevel(logging.INFO)


class SlackNotifier:
    def __init__(self, webhook_url: str | None, timeout_seconds: int = 5) -> None:
        self.webhook_url = webhook_url
        self.timeout_seconds = timeout_seconds

    def send(self, text: str) -> None:
        if not self.webhook_url:
            raise NotifyError("no Slack webhook is configured (slack_webhook in the environment)")
        client = WebhookClient(self.webhook_url, timeout=self.timeout_seconds, logger=_QUIET)
        try:
            response = client.send(text=text)
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise NotifyError(f"Slack is unreachable ({type(reason).__name__})") from None
        if response.status_code != 200:
            raise NotifyError(f"Slack answered {response.status_code}: {response.body[:200]}")
