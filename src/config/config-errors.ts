import { ConfigError } from '../errors.ts';
import { redact } from './redact.ts';

/** Several mistakes at once: the first one's location, every message on its own line. */
export function combine(errors: ConfigError[]): ConfigError {
  if (errors.length === 1) return errors[0];
  const [first, ...rest] = errors;
  const shown = rest.slice(0, 19).map((error) => error.message);
  const more = rest.length > 19 ? [`… and ${rest.length - 19} more`] : [];
  return new ConfigError([messageOnly(first), ...shown, ...more].join('\n'), first.location, errors);
}

/** Every mistake an error stands for, each with its own location. */
export function eachError(error: ConfigError): readonly ConfigError[] {
  return error.all ?? [error];
}

/** The same error with every secret value replaced by ***. */
export function redactError(error: ConfigError, secrets: string[]): ConfigError {
  const message = messageOnly(error);
  const clean = redact(message, secrets);
  const all = error.all?.map((one) => redactError(one, secrets));
  return clean === message && !all ? error : new ConfigError(clean, error.location, all);
}

/** The message without its `file:line field: ` prefix. */
export function messageOnly(error: ConfigError): string {
  const prefix = new ConfigError('', error.location).message;
  return error.message.slice(prefix.length);
}
