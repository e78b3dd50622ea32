import { LogController, type FastifyReply, type FastifyRequest } from 'fastify';

/**
 * Fastify logs two info lines per request; a server polled by its UI every few seconds then
 * logs little else. One line per request at debug (method, URL, status, time); a failed one
 * stays at error.
 */
export class RequestLogs extends LogController {
  override incomingRequest(): void {}

  override requestCompleted(error: Error | null | undefined, request: FastifyRequest, reply: FastifyReply): void {
    const fields = { method: request.method, url: request.url, statusCode: reply.statusCode, ms: Math.round(reply.elapsedTime) };
    if (error) reply.log.error({ ...fields, err: error }, `${request.method} ${request.url} failed`);
    else reply.log.debug(fields, `${request.method} ${request.url} ${reply.statusCode}`);
  }
}
