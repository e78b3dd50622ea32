import { describe, expect, it } from 'vitest';
import { stateUpdateFor, type PendingChange } from '../../src/engine/state-update.ts';
import type { Rejection } from '../../src/destinations/destination.ts';

// The one rule that moves a row's state from its outcome, case by case, as README's guarantees state them.

const match = { email: 'ada@example.com' };
const heldBefore = { status: 'delivered' as const, match: { email: 'old@example.com' } };

function change(over: Partial<PendingChange> = {}): PendingChange {
  return { key: '1', op: 'upsert', match, fields: { ...match, name: 'Ada' }, destId: 'd-1', fp: 'fp-new', localFp: 'lfp-new', previous: heldBefore, ...over };
}
const refused = (over: Partial<Rejection> = {}): Rejection => ({ category: 'schema_mismatch', message: 'name is too long', retryable: false, ...over });
const rejected = (rejection: Rejection) => ({ key: '1', outcome: 'rejected' as const, rejection });

describe('stateUpdateFor: what a record\'s outcome does to its state', () => {
  it('delivered: records the values sent, the id the destination answered and the identifier sent', () => {
    expect(stateUpdateFor(change(), { key: '1', outcome: 'delivered', destId: 'd-9' }))
      .toEqual({ key: '1', fp: 'fp-new', localFp: 'lfp-new', status: 'delivered', destId: 'd-9', match });
  });

  it('delivered without an id: keeps the id remembered from an earlier delivery', () => {
    expect(stateUpdateFor(change(), { key: '1', outcome: 'delivered' })).toMatchObject({ destId: 'd-1', status: 'delivered' });
    expect(stateUpdateFor(change({ destId: undefined, previous: null }), { key: '1', outcome: 'delivered' })).toMatchObject({ destId: null });
  });

  it('a delivered delete forgets the row', () => {
    expect(stateUpdateFor(change({ op: 'delete', fp: null, fields: {} }), { key: '1', outcome: 'delivered' })).toEqual({ key: '1', deleted: true });
  });

  it('deferred, or rejected for a retry: leaves the state as it was, so the next run sends the row again', () => {
    expect(stateUpdateFor(change(), { key: '1', outcome: 'deferred', reason: 'circuit open' })).toBeUndefined();
    expect(stateUpdateFor(change(), rejected(refused({ category: 'destination_error', retryable: true })))).toBeUndefined();
    expect(stateUpdateFor(change({ op: 'delete', fp: null }), rejected(refused({ retryable: true })))).toBeUndefined();
  });

  it('a write refused for good, of a row never delivered: parked as rejected with the refused fingerprint', () => {
    expect(stateUpdateFor(change({ previous: null, destId: undefined }), rejected(refused())))
      .toEqual({ key: '1', fp: 'fp-new', localFp: 'lfp-new', status: 'rejected', destId: null, match: null });
  });

  it('a write refused for good, of a row the destination still holds: outdated, keeping the identifier and id of that version (mirror can still delete it)', () => {
    expect(stateUpdateFor(change(), rejected(refused())))
      .toEqual({ key: '1', fp: 'fp-new', localFp: 'lfp-new', status: 'outdated', destId: 'd-1', match: heldBefore.match });
    const stillOutdated = change({ previous: { status: 'outdated', match: heldBefore.match } });
    expect(stateUpdateFor(stillOutdated, rejected(refused()))).toMatchObject({ status: 'outdated', match: heldBefore.match });
  });

  it('a write refused because the record is gone: rejected, with no id or identifier left to delete', () => {
    expect(stateUpdateFor(change(), rejected(refused({ category: 'missing_identifier' }))))
      .toEqual({ key: '1', fp: 'fp-new', localFp: 'lfp-new', status: 'rejected', destId: null, match: null });
  });

  it('a delete refused because the record is not there forgets the row; any other refused delete is tried again', () => {
    const del = change({ op: 'delete', fp: null, fields: {} });
    expect(stateUpdateFor(del, rejected(refused({ category: 'missing_identifier' })))).toEqual({ key: '1', deleted: true });
    expect(stateUpdateFor(del, rejected(refused({ category: 'destination_error' })))).toBeUndefined();
  });
});
