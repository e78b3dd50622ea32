import { describe, expect, it } from 'vitest';
import { jsonSyntaxError } from '../../../src/destinations/http-request/json-syntax.ts';

/** JSON.parse is the reference: the scanner must accept exactly what it accepts. */
function parses(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

const CASES = [
  '{}', '[]', ' [ 1 , -0.5e+10, 2E3, 0, -0 ] ', '{"a":{"b":[true,false,null]},"c":"x\\"y\\\\z\\u00e9\\n"}', '"\\/"', '1', 'null',
  '', ' ', '{', '[1,]', '{"a":1,}', '{"a" 1}', '{a:1}', "{'a':1}", '[01]', '[1.]', '[.5]', '[-]', '[1e]', '[1e+]', '["\\x"]',
  '["\\u12"]', '["a\nb"]', '["a\tb"]', '[1] [2]', 'tru', 'nul', '[true false]', '{"a":1}}', '[NaN]', '[Infinity]', '["unterminated]',
  '{"k":"v","k":"w"}', '[[[[[]]]]]', '"\\ud800"', '[1,2', '{"a":[}', '-', '--1', '+1', '1 2', '[1\u00a0]',
];

describe('JSON syntax check', () => {
  it('accepts exactly what JSON.parse accepts', () => {
    for (const text of CASES) expect(jsonSyntaxError(text) === undefined, JSON.stringify(text)).toBe(parses(text));
  });

  it('agrees with JSON.parse on bodies cut or altered at every position', () => {
    const body = JSON.stringify({ attributes: [{ external_id: 'u1', name: 'Ada "L"', n: -1.5e3, ok: true, x: null, tags: ['a', 'é'] }] });
    for (let i = 0; i <= body.length; i++) {
      for (const text of [body.slice(0, i), body.slice(0, i) + body.slice(i + 1), body.slice(0, i) + '"' + body.slice(i)]) {
        expect(jsonSyntaxError(text) === undefined, text).toBe(parses(text));
      }
    }
  });

  it('says what is wrong and where', () => {
    expect(jsonSyntaxError('{"a":"say "hi""}')).toBe('expected "," or "}" at position 11');
  });
});
