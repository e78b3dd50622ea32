import type pg from 'pg';
import type { Column, Value } from '../source.ts';
import { plainBytes } from '../canonical-values.ts';
import { pgColumn } from '../postgres/postgres-values.ts';

type Convert = (text: string) => Value;

/**
 * Redshift's own types over the Postgres ones: SUPER (OID 4000) arrives as JSON text, VARBYTE
 * (6551) as hex without the `\x` Postgres puts before bytea, GEOMETRY and HLLSKETCH as text.
 */
export function redshiftColumn(field: pg.FieldDef): { column: Column; convert: Convert } {
  switch (field.dataTypeID) {
    case 4000: return { column: { name: field.name, type: 'json' }, convert: (text) => JSON.parse(text) as Value };
    case 6551: return { column: { name: field.name, type: 'blob' }, convert: (text) => plainBytes(Buffer.from(text, 'hex')) };
    default: return pgColumn(field);
  }
}
