import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { strictSettings } from '../../src/config/strict-settings.ts';

describe('strictSettings', () => {
  // A type may register plain z.object settings, which silently drop unknown keys.
  const settings = z.object({
    url: z.string(),
    auth: z.object({ user: z.string() }).optional(),
    targets: z.array(z.object({ name: z.string() })).default([]),
    extra: z.looseObject({ a: z.number() }).optional(),
  }).refine((value) => value.url !== 'forbidden', { message: 'forbidden url' });

  it('refuses unknown keys at every depth', () => {
    const strict = strictSettings(settings);
    const result = strict.safeParse({ url: 'x', urll: 'y', auth: { user: 'u', pass: 'p' }, targets: [{ name: 'n', nme: 'm' }] });
    expect(result.success).toBe(false);
    const unknown = result.error!.issues.filter((issue) => issue.code === 'unrecognized_keys');
    expect(unknown.map((issue) => [issue.path.join('.'), (issue as { keys: string[] }).keys]).sort()).toEqual([
      ['', ['urll']], ['auth', ['pass']], ['targets.0', ['nme']],
    ]);
  });

  it('keeps defaults, refinements and objects that chose to accept any key', () => {
    const strict = strictSettings(settings);
    expect(strict.parse({ url: 'x', extra: { a: 1, anything: true } })).toEqual({ url: 'x', targets: [], extra: { a: 1, anything: true } });
    expect(strict.safeParse({ url: 'forbidden' }).error?.issues[0].message).toBe('forbidden url');
  });
});
