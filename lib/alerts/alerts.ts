/**
 * Alerts go to an operator-configured webhook as JSON that Slack (`text`) and PagerDuty-style
 * receivers (`severity`, `summary`, `source`, `custom_details`) both understand. They carry
 * counts, names and reason codes, never row values. A failing webhook is logged, not fatal:
 * the pipeline's state is in the vault, the alert is a notice.
 */
export type Severity = 'SEV1' | 'SEV2' | 'SEV3';

export interface Alert {
  severity: Severity;
  summary: string;
  component: 'ingest' | 'cluster' | 'remediate' | 'reconcile' | 'operator' | 'event-bridge' | 'sweep' | 'supervisor';
  stream?: string;
  batch?: string;
  reason: string;
  details?: Record<string, unknown>;
}

export interface AlertSink {
  post(alert: Alert): Promise<void>;
}

export function alertPayload(alert: Alert, now = new Date()): Record<string, unknown> {
  return {
    text: `[${alert.severity}] vaultmend ${alert.component}: ${alert.summary}`,
    severity: alert.severity,
    summary: alert.summary,
    source: 'vaultmend',
    component: alert.component,
    reason: alert.reason,
    stream: alert.stream ?? null,
    batch: alert.batch ?? null,
    timestamp: now.toISOString(),
    custom_details: alert.details ?? {},
  };
}

export class WebhookAlertSink implements AlertSink {
  constructor(
    private readonly url: string,
    private readonly onFailure: (message: string) => void,
    private readonly timeoutMs = 5000,
  ) {}

  async post(alert: Alert): Promise<void> {
    const body = JSON.stringify(alertPayload(alert));
    for (let attempt = 1; attempt <= 2; attempt++) {
      try {
        const res = await fetch(this.url, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body,
          signal: AbortSignal.timeout(this.timeoutMs),
        });
        if (res.ok) return;
        this.onFailure(`alert webhook answered ${res.status} (attempt ${attempt})`);
      } catch (error) {
        this.onFailure(`alert webhook failed (attempt ${attempt}): ${error instanceof Error ? error.message : String(error)}`);
      }
    }
  }
}

/** Used when no webhook is configured: the alert is only logged. */
export class LogAlertSink implements AlertSink {
  constructor(private readonly log: (alert: Alert) => void) {}
  async post(alert: Alert): Promise<void> {
    this.log(alert);
  }
}
