/** JSON Schemas of the request inspector's and the row test's answers, for /openapi.json. */
export const inspectedRequest = {
  type: 'object',
  required: ['destination', 'at', 'method', 'url', 'ms'],
  properties: {
    destination: { type: 'string' }, at: { type: 'string', format: 'date-time' },
    method: { type: 'string' }, url: { type: 'string' },
    status: { type: 'integer', description: 'absent when no answer came' },
    error: { type: 'string', description: 'why no answer came (timeout, network)' },
    ms: { type: 'integer', minimum: 0 },
    requestHeaders: { type: 'object', additionalProperties: { type: 'string' }, description: 'credential headers read ***' },
    requestBody: { type: 'string' }, responseBody: { type: 'string' },
  },
} as const;

export const testRowResult = {
  type: 'object',
  required: ['sync', 'key', 'outcome', 'stateUpdated', 'requests'],
  properties: {
    sync: { type: 'string' }, key: { type: 'string' },
    outcome: { type: 'string', enum: ['delivered', 'rejected', 'deferred', 'not_sent'] },
    operation: { type: 'string' },
    fields: { type: 'object', description: 'the mapped payload handed to the destination' },
    reason: { type: 'string' }, code: { type: 'string' },
    stateUpdated: { type: 'boolean', description: 'the row\'s state moved as a run\'s delivery of it would move it' },
    requests: { type: 'array', items: inspectedRequest },
  },
} as const;
