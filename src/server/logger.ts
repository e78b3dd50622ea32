import { Writable } from 'node:stream';
import pino, { type Logger } from 'pino';
import type { Redactor } from '../config/redact.ts';

/** Keys whose values never reach a log line, whatever they hold. */
const REDACT_PATHS = [
  'req.headers.authorization', 'headers.authorization', 'authorization',
  '*.token', '*.password', '*.clientSecret', '*.secret', '*.apiKey',
];

export interface LoggerOptions {
  level?: string;
  /** Where log lines go (default stdout). Each line is redacted before it is written. */
  stream?: NodeJS.WritableStream;
  redact: Redactor;
}

/**
 * Structured JSON logs. Known secret keys are censored by pino; every line is then passed
 * through the project's redactor, so a secret value inside a message or an error is caught too.
 */
export function createLogger({ level = 'info', stream = process.stdout, redact }: LoggerOptions): Logger {
  const redacting = new Writable({
    write(chunk: Buffer | string, _encoding, callback) {
      stream.write(redact(chunk.toString()));
      callback();
    },
  });
  return pino({ level, base: { service: 'lastmile' }, redact: { paths: REDACT_PATHS, censor: '[redacted]' } }, redacting);
}
