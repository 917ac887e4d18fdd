"""Alerts: what a failed run or a failed blocking check says, and the webhook it is posted to.

The webhook URL comes from the environment (THREATWATCH_ALERT_WEBHOOK_URL, through Dagster's EnvVar, so the UI
shows the variable's name, never its value). Messages are redacted: credential values of every source, the
webhook URL itself and credential-looking URL parts are masked before anything leaves the process.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field
from typing import Optional

import requests
from dagster import ConfigurableResource, EnvVar

from pipelines.lib.http_settings import USER_AGENT
from pipelines.lib.redaction import redact
from pipelines.lib.source_registry import load_sources_table

WEBHOOK_ENV = "THREATWATCH_ALERT_WEBHOOK_URL"
# The metadata key a GX check result carries its first failing expectation under (pipelines.lib.source_assets).
FIRST_FAILURE_KEY = "first_failed_expectation"


class AlertDeliveryError(RuntimeError):
    """The webhook refused or did not answer; the sensor tick fails, so the UI shows it and Dagster retries."""


@dataclass(frozen=True)
class CheckFailure:
    """A failed blocking check: the asset, the check and its first failing expectation."""

    asset: str
    check: str
    first_failure: str


@dataclass(frozen=True)
class Alert:
    """One alert: a headline and detail lines (the `text` chat webhooks show), and the same facts as fields."""

    kind: str  # run_failure | blocking_check_failed
    headline: str
    run_id: str
    job: str
    checks: list[CheckFailure] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # failed steps that are not check failures

    def text(self) -> str:
        lines = [self.headline]
        lines += [f"- blocking check {c.asset}:{c.check} failed; first failing expectation: {c.first_failure}"
                  for c in self.checks]
        lines += [f"- {e}" for e in self.errors]
        return "\n".join(lines)

    def payload(self) -> dict:
        """JSON for the webhook: `text` for Slack, Mattermost or Teams incoming webhooks, the fields for machines."""
        return {"text": redact_secrets(self.text()),
                "threatwatch": {k: _redact_tree(v) for k, v in asdict(self).items()}}


def first_line(text: str | None) -> str:
    return (text or "").strip().splitlines()[0] if (text or "").strip() else ""


def _secret_values() -> list[str]:
    """Values that must never leave: every source's credential variables and the webhook URL."""
    names = {n for cell in load_sources_table()["credentials_env"] for n in cell.split()} | {WEBHOOK_ENV}
    # longest first, so a secret containing another is masked whole
    return sorted({os.environ[n] for n in names if len(os.environ.get(n, "")) >= 4}, key=len, reverse=True)


def redact_secrets(text: str) -> str:
    """Text with credential values (as set in the environment) and credential-looking URL parts masked."""
    for value in _secret_values():
        text = text.replace(value, "REDACTED")
    return redact(text)


def _redact_tree(value):
    if isinstance(value, str):
        return redact_secrets(value)
    if isinstance(value, list):
        return [_redact_tree(v) for v in value]
    if isinstance(value, dict):
        return {k: _redact_tree(v) for k, v in value.items()}
    return value


class AlertWebhookResource(ConfigurableResource):
    """Posts alerts as JSON to a webhook; without a URL (THREATWATCH_ALERT_WEBHOOK_URL unset) alerting is off."""

    url: Optional[str] = None
    timeout_seconds: float = 10.0

    @property
    def configured(self) -> bool:
        return bool(self.url)

    def send(self, alert: Alert) -> None:
        """POST the alert; a refusal or no answer raises AlertDeliveryError (naming the status, never the URL)."""
        try:
            response = requests.post(self.url, json=alert.payload(), timeout=self.timeout_seconds,
                                     headers={"User-Agent": USER_AGENT})
        except requests.RequestException as exc:
            raise AlertDeliveryError(f"alert webhook unreachable: {type(exc).__name__}") from None
        if response.status_code >= 300:
            raise AlertDeliveryError(f"alert webhook answered HTTP {response.status_code}")


def alert_webhook_from_env() -> AlertWebhookResource:
    """The webhook resource: through EnvVar when the variable is set (the value stays out of the UI), else off."""
    return AlertWebhookResource(url=EnvVar(WEBHOOK_ENV)) if os.environ.get(WEBHOOK_ENV) else AlertWebhookResource()
