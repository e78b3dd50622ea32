/**
 * Checks that a text is one JSON value (RFC 8259), building nothing: JSON.parse would allocate
 * the whole body as objects only to throw them away, and on bulk bodies that garbage costs more
 * than the check. Answers undefined when valid, else what is wrong and where.
 */
export function jsonSyntaxError(text: string): string | undefined {
  const scanner = new Scanner(text);
  try {
    scanner.space();
    scanner.value(0);
    scanner.space();
    if (scanner.at < text.length) scanner.fail('unexpected text after the value');
    return undefined;
  } catch (error) {
    if (error instanceof JsonSyntax) return error.message;
    throw error;
  }
}

class JsonSyntax extends Error {}

const MAX_DEPTH = 512;

class Scanner {
  at = 0;

  constructor(private readonly text: string) {}

  fail(what: string): never {
    throw new JsonSyntax(`${what} at position ${this.at}`);
  }

  space(): void {
    const t = this.text;
    let c = t.charCodeAt(this.at);
    while (c === 32 || c === 10 || c === 13 || c === 9) c = t.charCodeAt(++this.at);
  }

  value(depth: number): void {
    if (depth > MAX_DEPTH) this.fail('nesting too deep');
    const c = this.text.charCodeAt(this.at);
    if (c === 123) return this.object(depth);
    if (c === 91) return this.array(depth);
    if (c === 34) return this.string();
    if (c === 45 || (c >= 48 && c <= 57)) return this.number();
    if (this.text.startsWith('true', this.at)) this.at += 4;
    else if (this.text.startsWith('false', this.at)) this.at += 5;
    else if (this.text.startsWith('null', this.at)) this.at += 4;
    else this.fail(Number.isNaN(c) ? 'unexpected end' : `unexpected ${JSON.stringify(this.text[this.at])}`);
  }

  private object(depth: number): void {
    this.at++;
    this.space();
    if (this.text.charCodeAt(this.at) === 125) {
      this.at++;
      return;
    }
    for (;;) {
      if (this.text.charCodeAt(this.at) !== 34) this.fail('expected a "key"');
      this.string();
      this.space();
      if (this.text.charCodeAt(this.at) !== 58) this.fail('expected ":"');
      this.at++;
      this.space();
      this.value(depth + 1);
      this.space();
      const c = this.text.charCodeAt(this.at);
      if (c !== 44 && c !== 125) this.fail('expected "," or "}"');
      this.at++;
      if (c === 125) return;
      this.space();
    }
  }

  private array(depth: number): void {
    this.at++;
    this.space();
    if (this.text.charCodeAt(this.at) === 93) {
      this.at++;
      return;
    }
    for (;;) {
      this.value(depth + 1);
      this.space();
      const c = this.text.charCodeAt(this.at);
      if (c !== 44 && c !== 93) this.fail('expected "," or "]"');
      this.at++;
      if (c === 93) return;
      this.space();
    }
  }

  private string(): void {
    const t = this.text;
    let i = this.at + 1;
    for (;;) {
      const c = t.charCodeAt(i);
      if (c === 34) break;
      if (Number.isNaN(c)) {
        this.at = i;
        this.fail('unterminated string');
      }
      if (c < 32) {
        this.at = i;
        this.fail('control character in a string');
      }
      if (c === 92) {
        const e = t.charCodeAt(i + 1);
        if (e === 117) {
          if (!/^[0-9a-fA-F]{4}$/.test(t.slice(i + 2, i + 6))) {
            this.at = i;
            this.fail('bad \\u escape');
          }
          i += 6;
          continue;
        }
        if (!(e === 34 || e === 92 || e === 47 || e === 98 || e === 102 || e === 110 || e === 114 || e === 116)) {
          this.at = i;
          this.fail('bad escape');
        }
        i += 2;
        continue;
      }
      i++;
    }
    this.at = i + 1;
  }

  private number(): void {
    const t = this.text;
    let i = this.at;
    if (t.charCodeAt(i) === 45) i++;
    const first = t.charCodeAt(i);
    if (first === 48) i++;
    else if (first >= 49 && first <= 57) while (isDigit(t.charCodeAt(i))) i++;
    else {
      this.at = i;
      this.fail('bad number');
    }
    if (t.charCodeAt(i) === 46) {
      i++;
      if (!isDigit(t.charCodeAt(i))) {
        this.at = i;
        this.fail('bad number');
      }
      while (isDigit(t.charCodeAt(i))) i++;
    }
    const e = t.charCodeAt(i);
    if (e === 101 || e === 69) {
      i++;
      const sign = t.charCodeAt(i);
      if (sign === 43 || sign === 45) i++;
      if (!isDigit(t.charCodeAt(i))) {
        this.at = i;
        this.fail('bad number');
      }
      while (isDigit(t.charCodeAt(i))) i++;
    }
    this.at = i;
  }
}

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}
