import type { DestinationType } from '../registry.ts';
import { ConfigError } from '../../errors.ts';
import { compileSpec, type CompiledSpec } from './compile-spec.ts';
import { HttpRequestDestination } from './http-request-destination.ts';
import { httpRequestConnectionSchema, httpRequestSyncOptionsSchema, type HttpRequestConnection } from './http-request-settings.ts';
import { resolveSpec, type Location, type Reporter } from './resolve-spec.ts';

export const httpRequestDestinationType: DestinationType<HttpRequestConnection, Record<string, never>> = {
  type: 'http-request',
  connection: httpRequestConnectionSchema,
  syncOptions: httpRequestSyncOptionsSchema,
  secretSettings: ['headers'],
  /** Loads the preset and compiles every template when the config loads, so `check` names each mistake. */
  validate(connection, { rootDir, locate, fail }) {
    const resolved = resolveSpec(connection, rootDir, { locate, fail });
    if (resolved && compileSpec(resolved, { locate, fail })) return { secrets: resolved.secrets };
    return {};
  },
  create(init) {
    // The config loader has reported every mistake already; here (tests, the API) the first one throws.
    const compiled = compileOrThrow(init.connection, init.rootDir, { field: `destinations.${init.connection.name}` });
    return new HttpRequestDestination(init.connection.name, compiled, init.sync);
  },
};

function compileOrThrow(connection: HttpRequestConnection, rootDir: string, location: Location): CompiledSpec {
  const reporter: Reporter = {
    locate: (fieldPath) => ({ field: [location.field, ...fieldPath].join('.') }),
    fail: (message, where) => { throw new ConfigError(message, where); },
  };
  const resolved = resolveSpec(connection, rootDir, reporter);
  const compiled = resolved && compileSpec(resolved, reporter);
  if (!compiled) throw new ConfigError('invalid http-request settings', location);
  return compiled;
}
