import { afterEach, describe, expect, it } from 'vitest';
import os from 'node:os';
import path from 'node:path';
import { appendFile, mkdtemp, readFile, rm } from 'node:fs/promises';
import { EventJournal } from '../../src/events/event-journal.ts';

let dir: string | undefined;
afterEach(async () => { if (dir) await rm(dir, { recursive: true, force: true }); });

const event = (id: string, key: string) => ({ id, key, acceptedAt: 1_000, row: { sku: key, price: '1.00' } });

describe('event journal', () => {
  it('gives back what was accepted and not settled, drops a torn last line, and keeps the newest delivered order per key', async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'lastmile-events-journal-'));
    const file = path.join(dir, 'events', 'prices.events.ndjson');
    const { journal } = await EventJournal.open(file);
    await journal.accept([event('a', 'K1'), event('b', 'K2'), event('c', 'K3')]);
    await journal.settle([{ id: 'a', key: 'K1', status: 'delivered', settledAt: 2_000, order: '2026-03-02T10:00:00' }]);
    await journal.settle([{ id: 'b', key: 'K2', status: 'rejected', reason: 'amount above the ceiling', category: 'destination_error', settledAt: 2_000 }]);
    await journal.close();
    await appendFile(file, '{"a":"d","k":"K4","t":3'); // a crash mid-append: never acknowledged to anyone

    const reopened = await EventJournal.open(file);
    expect(reopened.contents.pending.map((e) => e.id)).toEqual(['c']);
    expect(reopened.contents.settled.map((e) => [e.id, e.status, e.reason])).toEqual([['a', 'delivered', undefined], ['b', 'rejected', 'amount above the ceiling']]);
    expect([...reopened.contents.marks]).toEqual([['K1', '2026-03-02T10:00:00']]);
    await reopened.journal.close();
    // Reopening rewrote it compact: the pending event and the mark, nothing torn.
    const lines = (await readFile(file, 'utf8')).trim().split('\n').map((line) => JSON.parse(line));
    expect(lines).toEqual([{ m: 'K1', v: '2026-03-02T10:00:00' }, { a: 'c', k: 'K3', t: 1_000, r: { sku: 'K3', price: '1.00' } }]);
  });
});
