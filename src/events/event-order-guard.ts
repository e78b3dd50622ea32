import type { Project, SyncConfig } from '../config/project.ts';
import type { Row } from '../sources/source.ts';
import { readJournal } from './event-journal.ts';
import { eventJournalFile } from './event-journal-path.ts';
import { compareOrder, orderValueOf } from './event-order.ts';

/**
 * For a run of a sync with `events.orderBy`: a test that says a warehouse row is older than
 * the value an event already delivered for its key (by the order column), so the run holds it
 * back instead of overwriting the newer value. Undefined when the sync has no order column.
 * The marks are the event journal's as the run starts.
 */
export async function eventOrderGuard(project: Project, sync: SyncConfig): Promise<((key: string, row: Row) => boolean) | undefined> {
  const orderBy = sync.events?.orderBy;
  if (!orderBy) return undefined;
  const { marks } = await readJournal(eventJournalFile(project, sync.name));
  if (!marks.size) return undefined;
  return (key, row) => {
    const mark = marks.get(key);
    return mark !== undefined && compareOrder(orderValueOf(row[orderBy]), mark) < 0;
  };
}
