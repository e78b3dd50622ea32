import type { Logger } from 'pino';
import type { AlertConfig, AlertEvent } from '../config/project.ts';
import type { RejectCategory } from '../destinations/destination.ts';
import type { RunSummary } from '../state/run-record.ts';
import { redactDeep, type Redactor } from '../config/redact.ts';
import { formatAge } from '../engine/trace-format.ts';

export type { AlertEvent };

export interface AlertContext {
  rejectedByCategory: Partial<Record<RejectCategory, number>>;
  /** Link to the run's page in the web UI, when the server knows its address. */
  runUrl?: string;
}

/**
 * Which alerts a finished run sets off: a failure; at least `rejectedThreshold` rejected rows
 * (default 1); a stale model (its newest row older than its maxAge); L p95 above `latencyP95`.
 */
export function alertEvents(alert: AlertConfig, summary: RunSummary): AlertEvent[] {
  if (summary.dryRun) return [];
  const events: AlertEvent[] = [];
  if (alert.on.includes('failed') && summary.status === 'failed') events.push('failed');
  if (alert.on.includes('rejected') && summary.rejected > 0 && summary.rejected >= (alert.rejectedThreshold ?? 1)) {
    events.push('rejected');
  }
  if (alert.on.includes('stale') && summary.freshness?.stale) events.push('stale');
  if (alert.on.includes('latency') && alert.latencyP95 !== undefined && summary.latency && summary.latency.p95Ms > alert.latencyP95) {
    events.push('latency');
  }
  return events;
}

/** The body a generic webhook receives: the event and the run summary as the API gives it. */
export function webhookPayload(event: AlertEvent, summary: RunSummary, context: AlertContext) {
  return {
    event: `run.${event}`,
    sync: summary.sync,
    runId: summary.runId,
    summary,
    rejectedByCategory: context.rejectedByCategory,
    ...(context.runUrl ? { url: context.runUrl } : {}),
  };
}

/** A Slack incoming-webhook message: `text` for notifications, `blocks` for the message itself. */
export function slackPayload(event: AlertEvent, summary: RunSummary, context: AlertContext) {
  const n = (value: number) => value.toLocaleString('en-US');
  const headline = {
    failed: `:red_circle: Lastmile sync *${summary.sync}* failed`,
    rejected: `:warning: Lastmile sync *${summary.sync}* rejected ${n(summary.rejected)} rows`,
    stale: `:hourglass: Lastmile sync *${summary.sync}*: the model is stale (${staleText(summary)})`,
    latency: `:snail: Lastmile sync *${summary.sync}*: end-to-end latency p95 ${latencyText(summary)}`,
  }[event];
  const categories = Object.entries(context.rejectedByCategory)
    .filter(([, count]) => count)
    .sort((a, b) => (b[1] ?? 0) - (a[1] ?? 0))
    .map(([category, count]) => `${category}: ${n(count ?? 0)}`)
    .join(', ');
  const details = [
    `*Run:* \`${summary.runId}\``,
    `*Status:* ${summary.status}`,
    `*Delivered:* ${n(summary.delivered)}`,
    `*Rejected:* ${n(summary.rejected)}${categories ? ` (${categories})` : ''}`,
    `*Duration:* ${(summary.durationMs / 1000).toFixed(1)} s`,
  ];
  if (summary.freshness) details.push(`*Freshness:* ${staleText(summary)}`);
  if (summary.latency) details.push(`*Latency p95:* ${latencyText(summary)}`);
  const blocks: object[] = [
    { type: 'section', text: { type: 'mrkdwn', text: headline } },
    { type: 'section', fields: details.map((text) => ({ type: 'mrkdwn', text })) },
  ];
  if (summary.error) blocks.push({ type: 'section', text: { type: 'mrkdwn', text: `*Error:* ${summary.error}` } });
  if (context.runUrl) {
    blocks.push({ type: 'actions', elements: [{ type: 'button', text: { type: 'plain_text', text: 'Open run' }, url: context.runUrl }] });
  }
  const text = {
    failed: `Lastmile sync ${summary.sync} failed: ${summary.error ?? 'see the run'}`,
    rejected: `Lastmile sync ${summary.sync} rejected ${n(summary.rejected)} rows`,
    stale: `Lastmile sync ${summary.sync}: the model is stale (${staleText(summary)})`,
    latency: `Lastmile sync ${summary.sync}: end-to-end latency p95 ${latencyText(summary)}`,
  }[event];
  return { text, blocks };
}

/** `newest scraped_at 3 h old, maxAge 2 h` */
function staleText({ freshness: f }: RunSummary): string {
  if (!f) return '';
  return f.ageMs === null ? `no row has a ${f.column}` : `newest ${f.column} ${formatAge(f.ageMs)} old, maxAge ${formatAge(f.maxAgeMs)}`;
}

/** `12 min (p50 4 min, max 20 min)` */
function latencyText({ latency: l }: RunSummary): string {
  return l ? `${formatAge(l.p95Ms)} (p50 ${formatAge(l.p50Ms)}, max ${formatAge(l.maxMs)})` : '';
}

export interface AlerterOptions {
  alerts: AlertConfig[];
  redact: Redactor;
  log: Logger;
  timeoutMs?: number;
}

/**
 * Sends the alerts a finished run sets off. A receiver that is down is logged, never fatal:
 * an alert must not fail the run it reports on. One retry after a network error or a 5xx.
 */
export class Alerter {
  constructor(private readonly options: AlerterOptions) {}

  async notify(summary: RunSummary, context: AlertContext): Promise<void> {
    const sends: Promise<void>[] = [];
    for (const [index, alert] of this.options.alerts.entries()) {
      for (const event of alertEvents(alert, summary)) {
        const body = alert.type === 'slack' ? slackPayload(event, summary, context) : webhookPayload(event, summary, context);
        sends.push(this.send(index, alert, event, redactDeep(body, this.options.redact)));
      }
    }
    await Promise.all(sends);
  }

  private async send(index: number, alert: AlertConfig, event: AlertEvent, body: unknown): Promise<void> {
    const { log, timeoutMs = 10_000 } = this.options;
    // The URL itself can be a secret (Slack webhook URLs are): logs name the alert by position.
    const which = { alert: index, type: alert.type, event };
    for (let attempt = 1; attempt <= 2; attempt++) {
      try {
        const response = await fetch(alert.url, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(body),
          signal: AbortSignal.timeout(timeoutMs),
        });
        await response.body?.cancel();
        if (response.ok) {
          log.info(which, 'alert sent');
          return;
        }
        if (response.status < 500 || attempt === 2) {
          log.warn({ ...which, status: response.status }, `alert ${index} (${alert.type}) was refused with HTTP ${response.status}; check its url`);
          return;
        }
      } catch (error) {
        if (attempt === 2) {
          log.warn({ ...which, err: String(error) }, `alert ${index} (${alert.type}) could not be delivered; is the receiver up?`);
          return;
        }
      }
    }
  }
}
