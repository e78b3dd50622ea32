import { z } from 'zod';

/** A URL to a server, as a setting: its scheme, and one the URL parser reads. */
export const DATABASE_URLS = {
  postgres: { schemes: ['postgres', 'postgresql'], example: 'postgres://user:password@host:5432/database' },
  mysql: { schemes: ['mysql', 'mariadb'], example: 'mysql://user:password@host:3306/database' },
  amqp: { schemes: ['amqp', 'amqps'], example: 'amqp://user:password@host:5672/vhost' },
  redis: { schemes: ['redis', 'rediss'], example: 'redis://user:password@host:6379/0' },
} as const;

/**
 * A server URL setting. Drivers only say "Invalid URL", at connect time; this says what is
 * wrong at load time, at the setting's line, without repeating the URL (it may hold a password).
 */
export function serverUrl(kind: keyof typeof DATABASE_URLS) {
  const { schemes } = DATABASE_URLS[kind];
  return z.string()
    .regex(schemePattern(kind), { abort: true, error: `must start with ${schemes.map((s) => `${s}://`).join(' or ')}` })
    .superRefine((url, ctx) => {
      const problem = serverUrlProblem(url, kind);
      if (problem) ctx.addIssue({ code: 'custom', message: problem });
    });
}

/** Why `url` is not a usable URL of this kind, or undefined when it is. */
export function serverUrlProblem(url: string, kind: keyof typeof DATABASE_URLS): string | undefined {
  const { schemes, example } = DATABASE_URLS[kind];
  if (!schemePattern(kind).test(url)) return `must start with ${schemes.map((s) => `${s}://`).join(' or ')}`;
  try {
    new URL(url);
    return undefined;
  } catch {
    return `not a valid URL: expected ${example}; check the port (digits only) and percent-encode special characters in the user and password (@ as %40, / as %2F, : as %3A)`;
  }
}

function schemePattern(kind: keyof typeof DATABASE_URLS): RegExp {
  return new RegExp(`^(${DATABASE_URLS[kind].schemes.join('|')})://`);
}
