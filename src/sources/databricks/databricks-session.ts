import type { Source } from '../source.ts';
import type { WarehouseSession } from '../../diff/warehouse/warehouse-session.ts';
import { databricksDialect } from '../../diff/warehouse/databricks-dialect.ts';
import { readStatement } from '../read-statement.ts';

/**
 * Statements through the Statement Execution API, for a diff that runs in Databricks
 * (warehouse-session.ts). The API keeps no session between statements, so a "transaction" is
 * its statements in order, each committed by Delta on its own: a batch of the row state
 * interrupted midway keeps its first statements. Each holds only rows the destination
 * acknowledged, so nothing is recorded that was not delivered; the rest are sent again.
 */
export function databricksSession(source: Source): WarehouseSession {
  const run = readStatement(source);
  return {
    dialect: databricksDialect,
    run,
    transaction: (work) => work(run),
    close: async () => undefined, // the source owns the client
  };
}
