import type pg from 'pg';
import type { Value } from '../source.ts';
import { toPgParam } from '../postgres/postgres-values.ts';

/**
 * Redshift takes no bind parameters in DECLARE (its PREPARE covers SELECT, INSERT, UPDATE and
 * DELETE only), so a read's parameters become literals the server quotes itself with
 * QUOTE_LITERAL, put where the `$n` placeholders stand, outside strings, quoted names and comments.
 */
export async function inlineParams(client: pg.PoolClient, sql: string, params: Value[]): Promise<string> {
  if (params.length === 0) return sql;
  const literals: string[] = [];
  for (const param of params) {
    if (param === null) { literals.push('NULL'); continue; }
    const value = toPgParam(param);
    const text = Buffer.isBuffer(value) ? value.toString('hex') : String(value);
    const result = await client.query({ text: 'SELECT QUOTE_LITERAL($1::varchar)', values: [text], rowMode: 'array' });
    literals.push(String(result.rows[0][0]));
  }
  return replacePlaceholders(sql, (index) => {
    const literal = literals[index - 1];
    if (literal === undefined) throw new Error(`the query uses $${index}, but only ${params.length} parameter(s) were given`);
    return literal;
  });
}

/** `sql` with each `$n` outside '…', "…", -- and /* *\/ replaced by `replace(n)`. */
export function replacePlaceholders(sql: string, replace: (index: number) => string): string {
  let out = '';
  let i = 0;
  while (i < sql.length) {
    const ch = sql[i]!;
    const next = sql[i + 1];
    let end = i + 1;
    if (ch === "'" || ch === '"') {
      end = sql.indexOf(ch, i + 1);
      while (end !== -1 && sql[end + 1] === ch) end = sql.indexOf(ch, end + 2); // '' and "" escape themselves
      end = end === -1 ? sql.length : end + 1;
    } else if (ch === '-' && next === '-') {
      end = sql.indexOf('\n', i);
      end = end === -1 ? sql.length : end;
    } else if (ch === '/' && next === '*') {
      end = sql.indexOf('*/', i + 2);
      end = end === -1 ? sql.length : end + 2;
    } else if (ch === '$' && /[0-9]/.test(next ?? '') && !/[A-Za-z0-9_]/.test(sql[i - 1] ?? '')) {
      const digits = /^[0-9]+/.exec(sql.slice(i + 1))![0];
      out += replace(Number(digits));
      i += 1 + digits.length;
      continue;
    }
    out += sql.slice(i, end);
    i = end;
  }
  return out;
}
