import { isMap, isScalar, isSeq, type Scalar } from 'yaml';
import { ConfigError } from '../errors.ts';
import { combine } from './config-errors.ts';
import { formatPath, keyText, lineOf, type ConfigFile, type PathSegment } from './yaml-files.ts';

/** `${NAME}`, `${NAME:-default}`, and `$${` for a literal `${`. */
const REFERENCE = /\$\$\{|\$\{([^}]*)\}/g;
const VARIABLE = /^([A-Za-z_][A-Za-z0-9_]*)(?::-(.*))?$/s;

export interface Substitution {
  /** Every value taken from the environment (they are secrets until proven otherwise). */
  secrets: string[];
  /**
   * Paths of unquoted values that were one whole `${NAME}` (`port: ${PG_PORT}`): where a
   * setting wants a number or a boolean, such a value may be read as one.
   */
  wholeValuePaths: PathSegment[][];
}

/**
 * Replaces `${NAME}` in every string value of the file, in place, before validation, so
 * a missing variable is reported at the line and field that use it.
 */
export function substituteEnv(file: ConfigFile, env: Record<string, string | undefined>): Substitution {
  const result: Substitution = { secrets: [], wholeValuePaths: [] };
  const missing: ConfigError[] = [];
  walk(file.doc.contents, [], (scalar, fieldPath) => {
    const text = scalar.value as string;
    let whole = false;
    const replaced = text.replace(REFERENCE, (match, body: string | undefined, offset: number) => {
      if (body === undefined) return '${';
      const parsed = VARIABLE.exec(body.trim());
      if (!parsed) {
        missing.push(new ConfigError(`"${match}" is not a variable reference: use \${NAME} (letters, digits, _), or $\${ for a literal \${`, location(file, fieldPath)));
        return match;
      }
      const [, name, fallback] = parsed;
      const value = env[name];
      whole = offset === 0 && match.length === text.length;
      if (value !== undefined && !(value === '' && fallback !== undefined)) {
        if (value) result.secrets.push(value);
        return value;
      }
      if (fallback !== undefined) return fallback;
      missing.push(new ConfigError(`environment variable ${name} is not set: export it before running lastmile (or write $\${${name}} for a literal)`, location(file, fieldPath)));
      return match;
    });
    if (replaced !== text) {
      scalar.value = replaced;
      if (whole && scalar.type === 'PLAIN') result.wholeValuePaths.push(fieldPath);
    }
  });
  if (missing.length > 0) throw combine(missing);
  return result;
}

function location(file: ConfigFile, fieldPath: PathSegment[]) {
  return { file: file.display, line: lineOf(file, fieldPath), field: formatPath(fieldPath) };
}

function walk(node: unknown, fieldPath: PathSegment[], visit: (scalar: Scalar, fieldPath: PathSegment[]) => void): void {
  if (isMap(node)) {
    for (const pair of node.items) walk(pair.value, [...fieldPath, keyText(pair.key)], visit);
  } else if (isSeq(node)) {
    node.items.forEach((item, index) => walk(item, [...fieldPath, index], visit));
  } else if (isScalar(node) && typeof node.value === 'string') {
    visit(node, fieldPath);
  }
}
