/** A request the pipeline cannot take whole: a row is not an event of this model (400). */
export class EventInputError extends Error {}

/** The queue is full: nothing of the request was taken; try again after `retryAfterSeconds` (429). */
export class EventQueueFullError extends Error {
  constructor(readonly retryAfterSeconds: number, message: string) {
    super(message);
  }
}
