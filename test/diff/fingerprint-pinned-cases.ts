import type { Value } from '../../src/sources/source.ts';
import type { FingerprintColumn } from '../../src/diff/fingerprint/fingerprint-v1.ts';

/**
 * Known values of recipe v1, one per canonical type and edge: the SQL literal each engine
 * reads, the value a source hands over, its field text, its key text, and the fingerprint
 * under SIGNATURE. A fingerprint that moves here means stored state no longer matches:
 * that is a new recipe version, not a fix.
 */
export const SIGNATURE = 'm1:5f3c0a9d41b2e887';

export interface PinnedCase {
  what: string;
  column: FingerprintColumn;
  duckdb: string;
  postgres: string;
  value: Value;
  field: string;
  key: string | null;
  fp: string;
}

const x = (type: FingerprintColumn['type'], scale?: number, precision?: number): FingerprintColumn =>
  ({ name: 'x', type, ...(scale === undefined ? {} : { scale, precision }) });

export const PINNED: PinnedCase[] = [
  { what: 'integer', column: x('integer'), duckdb: '42::INTEGER', postgres: '42::int4', value: 42, field: '42', key: '42', fp: '856509048603155559' },
  { what: 'negative integer', column: x('integer'), duckdb: '(-7)::INTEGER', postgres: '(-7)::int4', value: -7, field: '-7', key: '-7', fp: '1210480517118076082' },
  { what: 'bigint beyond 2^53', column: x('bigint'), duckdb: '9007199254740993::BIGINT', postgres: '9007199254740993::int8', value: 9007199254740993n, field: '9007199254740993', key: '9007199254740993', fp: '14320574739079160308' },
  { what: 'smallest bigint', column: x('bigint'), duckdb: '(-9223372036854775808)::BIGINT', postgres: "'-9223372036854775808'::int8", value: -9223372036854775808n, field: '-9223372036854775808', key: '-9223372036854775808', fp: '12355342235594842151' },
  { what: 'exact decimal', column: x('decimal', 4, 18), duckdb: '12345678901234.5678::DECIMAL(18,4)', postgres: '12345678901234.5678::numeric(18,4)', value: '12345678901234.5678', field: '12345678901234.5678', key: '12345678901234.5678', fp: '18005393212519827080' },
  { what: 'decimal with trailing zeros', column: x('decimal', 2, 12), duckdb: '12.50::DECIMAL(12,2)', postgres: '12.50::numeric(12,2)', value: '12.50', field: '12.5', key: '12.5', fp: '9767735892535472649' },
  { what: 'integral decimal', column: x('decimal', 2, 12), duckdb: '100.00::DECIMAL(12,2)', postgres: '100.00::numeric(12,2)', value: '100.00', field: '100', key: '100', fp: '13804673856238212414' },
  { what: 'negative decimal', column: x('decimal', 2, 12), duckdb: '(-0.50)::DECIMAL(12,2)', postgres: '(-0.50)::numeric(12,2)', value: '-0.50', field: '-0.5', key: '-0.5', fp: '3739497516969882749' },
  { what: 'decimal zero', column: x('decimal', 2, 12), duckdb: '0.00::DECIMAL(12,2)', postgres: '0.00::numeric(12,2)', value: '0.00', field: '0', key: '0', fp: '14119974346487234825' },
  { what: '38-digit decimal', column: x('decimal', 10, 38), duckdb: '1234567890123456789012345678.9000000000::DECIMAL(38,10)', postgres: '1234567890123456789012345678.9000000000::numeric(38,10)', value: '1234567890123456789012345678.9000000000', field: '1234567890123456789012345678.9', key: '1234567890123456789012345678.9', fp: '15598865914097734394' },
  { what: 'decimal of unknown scale', column: x('decimal'), duckdb: '1.2300::DECIMAL(10,4)', postgres: '1.2300::numeric', value: '1.2300', field: '1.23', key: '1.23', fp: '14128926823755305105' },
  { what: 'double', column: x('double'), duckdb: '0.1::DOUBLE', postgres: '0.1::float8', value: 0.1, field: '0.1', key: '0.1', fp: '15412449840050837005' },
  { what: 'integral double', column: x('double'), duckdb: '100::DOUBLE', postgres: '100::float8', value: 100, field: '100', key: '100', fp: '13804673856238212414' },
  { what: 'large double', column: x('double'), duckdb: '1e21::DOUBLE', postgres: '1e21::float8', value: 1e21, field: '1e21', key: '1e21', fp: '1716745723066229668' },
  { what: 'double at 1e15', column: x('double'), duckdb: '1e15::DOUBLE', postgres: '1e15::float8', value: 1e15, field: '1000000000000000', key: '1000000000000000', fp: '8034364479394463596' },
  { what: 'small double', column: x('double'), duckdb: '1.5e-7::DOUBLE', postgres: '1.5e-7::float8', value: 1.5e-7, field: '1.5e-7', key: '1.5e-7', fp: '12183968856168555854' },
  { what: 'double at 1e-5', column: x('double'), duckdb: '1e-5::DOUBLE', postgres: '1e-5::float8', value: 1e-5, field: '0.00001', key: '0.00001', fp: '16522393270001268875' },
  { what: 'negative zero double', column: x('double'), duckdb: "'-0'::DOUBLE", postgres: "'-0'::float8", value: -0, field: '0', key: '0', fp: '14119974346487234825' },
  { what: 'double on a rounding boundary', column: x('double'), duckdb: '18014398509481992::DOUBLE', postgres: '18014398509481992::float8', value: 18014398509481992, field: '18014398509481990', key: '18014398509481990', fp: '5382768840879970693' },
  { what: 'double 1e23', column: x('double'), duckdb: '1e23::DOUBLE', postgres: '1e23::float8', value: 1e23, field: '1e23', key: '1e23', fp: '16473522159284200464' },
  { what: 'double NaN', column: x('double'), duckdb: "'NaN'::DOUBLE", postgres: "'NaN'::float8", value: NaN, field: 'NaN', key: 'NaN', fp: '13473510359433413560' },
  { what: 'double infinity', column: x('double'), duckdb: "'-Infinity'::DOUBLE", postgres: "'-Infinity'::float8", value: -Infinity, field: '-Infinity', key: '-Infinity', fp: '5493747053283119602' },
  { what: 'boolean true', column: x('boolean'), duckdb: 'true', postgres: 'true', value: true, field: 'true', key: 'true', fp: '5016943352677263989' },
  { what: 'boolean false', column: x('boolean'), duckdb: 'false', postgres: 'false', value: false, field: 'false', key: 'false', fp: '6803736011289026478' },
  { what: 'empty string', column: x('varchar'), duckdb: "''", postgres: "''::text", value: '', field: '', key: '', fp: '2892415700006916370' },
  { what: 'unicode text', column: x('varchar'), duckdb: "'héllo 😀 中文 e\u0301'", postgres: "'héllo 😀 中文 e\u0301'::text", value: 'héllo 😀 中文 e\u0301', field: 'héllo 😀 中文 e\u0301', key: 'héllo 😀 中文 e\u0301', fp: '11525999115526326350' },
  { what: 'text with the separator and backslash', column: x('varchar'), duckdb: "'a|b\\c'", postgres: "'a|b\\c'::text", value: 'a|b\\c', field: 'a\\|b\\\\c', key: 'a|b\\c', fp: '11224442036917804611' },
  { what: 'the text \\N', column: x('varchar'), duckdb: "'\\N'", postgres: "'\\N'::text", value: '\\N', field: '\\\\N', key: '\\N', fp: '2328873106095319793' },
  { what: 'date', column: x('date'), duckdb: "DATE '2024-03-01'", postgres: "DATE '2024-03-01'", value: '2024-03-01', field: '19783', key: '2024-03-01', fp: '9987734932426630570' },
  { what: 'date before 1970', column: x('date'), duckdb: "DATE '1969-12-31'", postgres: "DATE '1969-12-31'", value: '1969-12-31', field: '-1', key: '1969-12-31', fp: '2132492037931301549' },
  { what: 'infinite date', column: x('date'), duckdb: "DATE 'infinity'", postgres: "DATE 'infinity'", value: 'infinity', field: 'infinity', key: 'infinity', fp: '14467806559193674036' },
  { what: 'time', column: x('time'), duckdb: "TIME '12:00:00.5'", postgres: "TIME '12:00:00.5'", value: '12:00:00.500000', field: '43200500000', key: '12:00:00.500000', fp: '8178202197169773405' },
  { what: 'timestamp in µs', column: x('timestamp'), duckdb: "TIMESTAMP '2024-03-01 12:00:00.123456'", postgres: "TIMESTAMP '2024-03-01 12:00:00.123456'", value: '2024-03-01T12:00:00.123456', field: '1709294400123456', key: '2024-03-01T12:00:00.123456', fp: '9519491733349755609' },
  { what: 'timestamp before 1970', column: x('timestamp'), duckdb: "TIMESTAMP '1969-12-31 23:59:59.999999'", postgres: "TIMESTAMP '1969-12-31 23:59:59.999999'", value: '1969-12-31T23:59:59.999999', field: '-1', key: '1969-12-31T23:59:59.999999', fp: '2132492037931301549' },
  { what: 'infinite timestamp', column: x('timestamp'), duckdb: "TIMESTAMP '-infinity'", postgres: "TIMESTAMP '-infinity'", value: '-infinity', field: '-infinity', key: '-infinity', fp: '812813636091072643' },
  { what: 'timestamptz in µs', column: x('timestamptz'), duckdb: "TIMESTAMPTZ '2024-03-01 12:00:00.123456+02'", postgres: "TIMESTAMPTZ '2024-03-01 12:00:00.123456+02'", value: '2024-03-01T10:00:00.123456Z', field: '1709287200123456', key: '2024-03-01T10:00:00.123456Z', fp: '7321117894350139479' },
  { what: 'JSON', column: x('json'), duckdb: `'{"a": null, "bb": [1.0, 2.50, "x|y", true, {"c": -0.0}]}'::JSON`, postgres: `'{"a": null, "bb": [1.0, 2.50, "x|y", true, {"c": -0.0}]}'::jsonb`, value: { a: null, bb: [1, 2.5, 'x|y', true, { c: -0 }] }, field: '{"a":null,"bb":[1,2.5,"x\\|y",true,{"c":0}]}', key: '{"a":null,"bb":[1,2.5,"x|y",true,{"c":0}]}', fp: '17067582137779746608' },
  { what: 'JSON string with control characters', column: x('json'), duckdb: `to_json(chr(31) || chr(10) || '"é')`, postgres: `to_jsonb(chr(31) || chr(10) || '"é')`, value: '\u001f\n"é', field: '"\\\\u001f\\\\n\\\\"é"', key: '"\\u001f\\n\\"é"', fp: '8325797548368709024' },
  { what: 'binary', column: x('blob'), duckdb: "'\\xAB\\x00\\x7F'::BLOB", postgres: "'\\xab007f'::bytea", value: new Uint8Array([0xab, 0, 0x7f]), field: 'ab007f', key: 'ab007f', fp: '1966362075496554630' },
];
