import type { FastifyReply } from 'fastify';
import type { Project, SyncConfig } from '../config/project.ts';

/** The sync a route names, or undefined once a 404 naming the known syncs is sent. */
export function findSync(project: Project, name: string, reply: FastifyReply): SyncConfig | undefined {
  const sync = project.syncs[name];
  if (!sync) {
    const known = Object.keys(project.syncs).join(', ') || 'none';
    void reply.code(404).send({ statusCode: 404, error: 'Not Found', message: `no sync named "${name}" (syncs: ${known})` });
  }
  return sync;
}

export const syncParam = { type: 'object', required: ['sync'], properties: { sync: { type: 'string' } } } as const;
