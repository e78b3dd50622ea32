import { describe, expect, it } from 'vitest';
import { Liquid } from 'liquidjs';
import { compileLiquid } from '../../../src/destinations/http-request/liquid-compiler.ts';
import { compileRequestTemplate, RECORD_MEMBERS, TemplateError } from '../../../src/destinations/http-request/request-template.ts';

const liquid = new Liquid({ strictFilters: true, ownPropertyOnly: true });

const records = [
  { key: 'k1', op: 'upsert', id: 'a@x.io', fields: { email: 'a@x.io', name: 'Ada "Lovelace"', n: 3, tags: ['x', 'y'], none: null }, attributes: { name: 'Ada' } },
  { key: 'k2', op: 'delete', id: 'b@x.io', fields: {}, attributes: {} },
  { key: 'k3', op: 'upsert', id: 'c@x.io', fields: { email: 'c@x.io', name: '', n: -1.5, tags: [], none: false }, attributes: { name: '' } },
];
const scopes = [{ records, settings: { region: 'eu', n: 2, flag: false }, record: records[0] }, { records: [], settings: {}, record: undefined }];

/** Templates inside the compiled subset: their output must be liquidjs's, character for character. */
const SUBSET = [
  'plain text only',
  '{{ settings.region }}-{{ settings.n }}-{{ settings.flag }}-{{ settings.missing }}',
  '[{% for r in records %}{{ r.fields | json }}{% unless forloop.last %},{% endunless %}{% endfor %}]',
  '{% for r in records %}{{ forloop.index }}/{{ forloop.length }}:{{ forloop.first }}{{ forloop.last }}{{ forloop.index0 }}{{ forloop.rindex }}{{ forloop.rindex0 }} {% else %}none{% endfor %}',
  '{% for r in records %}{% for t in r.fields.tags %}{{ t | upcase }}{{ forloop.index }}{% endfor %}|{% endfor %}',
  '{% for r in records %}{% if r.op == "delete" %}D{% elsif r.fields.n > 0 and r.fields.name != "" %}P{% else %}O{% endif %}{% endfor %}',
  '{% for r in records %}{% unless r.fields.none %}u{% endunless %}{% if r.fields.none == nil %}n{% endif %}{% if not r.fields.name %}!{% endif %}{% endfor %}',
  '{% for r in records %}{% if r.fields.tags contains "y" or r.id contains "c@" %}C{% endif %}{{ r.fields.tags.size }}{{ r.fields.tags.first }}{{ r.fields.tags.last }}{{ r.id.size }}{{ r.fields["name"] }}{{ r.fields.tags[1] }}{% endfor %}',
  '{{ record.fields.tags }}{{ record.fields.n | plus: settings.n | times: 2 }}{{ record.fields.name | default: "x" | url_encode }}',
  '{{ record.id | append: ":" | append: settings.region | base64_encode }} {{ "quoted" | upcase }} {{ 12 | minus: 2 }} {{ true }}',
  '{%- for r in records -%}\n  {{ r.key }}\n{%- endfor -%}\n{% comment %}gone{% endcomment %}tail',
  '{% for r in records %}{{ r.fields | json: 2 }}{% endfor %}',
  '{% if settings.n >= 2 and settings.n <= 2 and settings.n < 3 %}ok{% endif %}{% if records.size == 0 %}empty{% endif %}',
];

/** Outside the subset: compileLiquid declines and liquidjs renders. */
const OUTSIDE = [
  '{% assign x = 1 %}{{ x }}',
  '{% for r in records limit: 1 %}{{ r.key }}{% endfor %}',
  '{% for i in (1..3) %}{{ i }}{% endfor %}',
  '{% case settings.region %}{% when "eu" %}E{% endcase %}',
  '{{ records | map: "key" | join: "," }}',
  '{% if records == empty %}e{% endif %}',
  '{{ nil | json }}',
];

describe('compiled Liquid', () => {
  it('renders every template of its subset exactly as liquidjs does', () => {
    for (const text of SUBSET) {
      const templates = liquid.parse(text);
      const fast = compileLiquid(templates, liquid);
      expect(fast, text).toBeTypeOf('function');
      for (const scope of scopes) expect(fast!(scope), text).toBe(liquid.renderSync(templates, scope));
    }
  });

  it('declines templates outside it', () => {
    for (const text of OUTSIDE) expect(compileLiquid(liquid.parse(text), liquid), text).toBeUndefined();
  });

  it('request templates render the same compiled or not, and say which', () => {
    const vocabulary = { roots: ['records', 'record', 'settings'] };
    for (const text of [...SUBSET, ...OUTSIDE]) {
      const template = compileRequestTemplate(text, vocabulary);
      expect(template.compiled).toBe(SUBSET.includes(text));
      for (const scope of scopes) expect(template.render(scope), text).toBe(liquid.renderSync(liquid.parse(text), scope));
    }
  });

  it('json sends bigints as digits and binary as base64; merge adds keys', () => {
    const t = compileRequestTemplate('{{ record | merge: extra: true, n: 2 | json }}', { roots: ['record'] });
    expect(t.render({ record: { big: 12345678901234567890n, bin: new Uint8Array([1, 2]) } })).toBe('{"big":"12345678901234567890","bin":"AQI=","extra":true,"n":2}');
  });

  it('merge | json renders what liquidjs renders, whatever the keys and values', () => {
    const text = '{% for r in records %}{{ r.fields | merge: op: r.op, key: r.key, name: "over", extra: r.fields.tags, n: r.fields.none | json }}{{ r.attributes | merge: a: 1, a: 2 | json }}{{ r.key | merge: x: 1 | json }}{% endfor %}';
    const template = compileRequestTemplate(text, { roots: ['records'] });
    expect(template.compiled).toBe(true);
    const reference = compileRequestTemplate(`{% assign unused = 1 %}${text}`, { roots: ['records'] });
    expect(reference.compiled).toBe(false);
    for (const scope of scopes) expect(template.render(scope)).toBe(reference.render(scope));
  });

  it('knows when only the values of a JSON body vary with the data', () => {
    const fixed = (text: string) => compileRequestTemplate(text, { roots: ['records', 'record', 'settings'] }).fixedJsonStructure;
    expect(fixed('[{% for r in records %}{{ r.fields | merge: op: r.op | json }}{% unless forloop.last %},{% endunless %}{% endfor %}]')).toBe(true);
    expect(fixed('{"token":"{{ settings.region }}","n":{{ record.fields.n | json }}}')).toBe(true);
    expect(fixed('[{% for r in records %}{% if r.fields.none %}{{ r.key | json }}{% endif %}{% endfor %}]')).toBe(false);
    expect(fixed('{"name":"{{ record.fields.name }}"}')).toBe(false);
    expect(fixed('[{% for r in records %}{% for t in r.fields.tags %}{{ t | json }}{% endfor %}{% endfor %}]')).toBe(false);
    expect(fixed('{% assign x = 1 %}{{ x | json }}')).toBe(false);
  });

  it('names unknown variables and unknown record members, with the line', () => {
    const vocabulary = { roots: ['records', 'settings'], members: { settings: ['apiKey'], record: RECORD_MEMBERS }, recordLists: { records: 'record' } };
    const fail = (text: string) => {
      try {
        compileRequestTemplate(text, vocabulary);
      } catch (error) {
        return error as TemplateError;
      }
      throw new Error('no error');
    };
    expect(fail('{\n{{ recrods }}').message).toContain('unknown variable "recrods"');
    expect(fail('{\n{{ recrods }}').line).toBe(2);
    expect(fail('{% for r in records %}{{ r.feilds.x }}{% endfor %}').message).toContain('unknown variable "r.feilds" (did you mean r.fields?)');
    expect(fail('{{ settings.apikey }}').message).toContain('did you mean settings.apiKey?');
    expect(fail('{% for r in records %}').message).toContain('not valid Liquid');
    expect(() => compileRequestTemplate('{% for r in records %}{{ r.fields.anything }}{% endfor %}{{ settings.apiKey }}', vocabulary)).not.toThrow();
  });
});
