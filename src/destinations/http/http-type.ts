import type { DestinationType } from '../registry.ts';
import { httpConnectionSchema, httpSyncOptionsSchema, type HttpConnection, type HttpSyncOptions } from './http-settings.ts';
import { HttpDestination } from './http-destination.ts';

export const httpDestinationType: DestinationType<HttpConnection, HttpSyncOptions> = {
  type: 'http',
  connection: httpConnectionSchema,
  syncOptions: httpSyncOptionsSchema,
  secretSettings: ['headers', 'signing'],
  create: (init) => new HttpDestination(init.connection.name, init.connection),
};
