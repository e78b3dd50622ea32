import { SyncError } from '../../errors.ts';
import type { Rejection } from '../destination.ts';

interface NatsErrorLike extends Error {
  code?: string;
  api_error?: { code?: number; err_code?: number; description?: string };
}

/** Credentials or permissions: a person must fix them. */
const CONFIG_CODES = new Set([
  'AUTHORIZATION_VIOLATION', 'AUTHENTICATION_EXPIRED', 'AUTHENTICATION_TIMEOUT', 'BAD_AUTHENTICATION', 'BAD_CREDS',
  'PERMISSIONS_VIOLATION', 'ACCOUNT_EXPIRED', 'TLS', 'INVALID_OPTION',
]);

/** A connection or JetStream failure (not about one message) as the SyncError the engine acts on. */
export function toSyncError(error: unknown, prefix: string): SyncError {
  if (error instanceof SyncError) return error;
  const err = error as NatsErrorLike;
  const code = err.code;
  if (code && CONFIG_CODES.has(code)) {
    return new SyncError('config', `${prefix}: ${err.message} (${code}): check \`token\`, \`user\` and \`password\`, and the account's permissions`, { code, cause: error });
  }
  if (code === '503') {
    return new SyncError('config', `${prefix}: JetStream did not answer (503 no responders): enable JetStream on the server`, { code, cause: error });
  }
  if (err.api_error) {
    const { err_code, description } = err.api_error;
    return new SyncError('config', `${prefix}: JetStream refused: ${description ?? err.message} (err_code ${err_code})`, { code: String(err_code ?? code), cause: error });
  }
  return new SyncError('transient', `${prefix}: ${err.message ?? String(error)}${code ? ` (${code})` : ''}; retrying`, { code, cause: error });
}

/**
 * Why one publish failed: a SyncError when the whole batch must stop or be retried
 * (connection, no stream for the subject, permissions), a Rejection when only this
 * message is at fault (too large for the server, refused by the stream's limits).
 */
export function publishFailure(error: unknown, prefix: string, subject: string): SyncError | Rejection {
  const err = error as NatsErrorLike;
  if (err.code === 'MAX_PAYLOAD_EXCEEDED') {
    return { category: 'invalid_row', code: err.code, message: `the message is larger than the server's max_payload: ${err.message}`, retryable: false };
  }
  if (err.code === '503') {
    return new SyncError('config', `${prefix}: no JetStream stream captures subject "${subject}" (503 no responders): create one, or set \`stream\` on the sync to have it created`, { code: '503', cause: error });
  }
  if (err.api_error) {
    // The stream refused this message (its limits: max messages, max bytes, max message size).
    const { err_code, description } = err.api_error;
    return { category: 'destination_error', code: String(err_code ?? err.code), message: `JetStream refused the message: ${description ?? err.message}`, retryable: true };
  }
  return toSyncError(error, prefix);
}
