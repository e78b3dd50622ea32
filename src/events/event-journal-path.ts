import path from 'node:path';
import type { Project } from '../config/project.ts';
import { POSTGRES_URL } from '../config/schema.ts';

/**
 * Where a sync's event journal lives: beside the embedded state, or in the project's .lastmile
 * folder when the state is in Postgres (the journal is a local file either way).
 */
export function eventJournalDir(project: Project): string {
  return POSTGRES_URL.test(project.state) ? path.join(project.rootDir, '.lastmile', 'events') : path.join(project.state, 'events');
}

export const JOURNAL_SUFFIX = '.events.ndjson';

export function eventJournalFile(project: Project, sync: string): string {
  return path.join(eventJournalDir(project), `${sync}${JOURNAL_SUFFIX}`);
}
