import type { z } from 'zod';
import type { Destination, DestinationInit } from './destination.ts';
import { httpDestinationType } from './http/http-type.ts';
import { salesforceDestinationType } from './salesforce/salesforce-type.ts';
import { hubspotDestinationType } from './hubspot/hubspot-type.ts';
import { postgresDestinationType } from './postgres/postgres-type.ts';
import { mysqlDestinationType } from './mysql/mysql-type.ts';
import { natsDestinationType } from './nats/nats-type.ts';
import { rabbitmqDestinationType } from './rabbitmq/rabbitmq-type.ts';
import { httpRequestDestinationType } from './http-request/http-request-type.ts';

/**
 * A destination type: the settings it accepts (as schemas, so config errors name the field
 * and the JSON Schema lists them) and a factory. One entry per folder under destinations/.
 */
export interface DestinationType<Conn = any, Opts = any> {
  type: string;
  /** Settings on the destination, besides `type`, `batch` and `rateLimit`. */
  connection: z.ZodType<Conn>;
  /** Settings on a sync to this destination, besides model/destination/mode/match/mapping/schedule. */
  syncOptions: z.ZodType<Opts>;
  /** Names of connection settings that hold secrets (never shown, even when not from ${ENV}). */
  secretSettings?: string[];
  /**
   * Optional checks that need more than the schema (files a setting names, templates), run when
   * the config loads; mistakes go to `fail` with their location. May name more secret values.
   */
  validate?(connection: Conn, context: ValidateContext): { secrets?: string[] };
  create(init: DestinationInit<Conn, Opts>): Destination;
}

export interface ValidateContext {
  rootDir: string;
  /** Where a setting of this destination is written: file, line, field. */
  locate(fieldPath: (string | number)[]): { file?: string; line?: number; field?: string };
  fail(message: string, where: { file?: string; line?: number; field?: string }): void;
}

export const destinationTypes: Record<string, DestinationType> = {
  [httpDestinationType.type]: httpDestinationType,
  [salesforceDestinationType.type]: salesforceDestinationType,
  [hubspotDestinationType.type]: hubspotDestinationType,
  [postgresDestinationType.type]: postgresDestinationType,
  [mysqlDestinationType.type]: mysqlDestinationType,
  [natsDestinationType.type]: natsDestinationType,
  [rabbitmqDestinationType.type]: rabbitmqDestinationType,
  [httpRequestDestinationType.type]: httpRequestDestinationType,
};
