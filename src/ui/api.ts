import type { RejectedRow, RunProfile, RunSummary, TraceLine } from '../state/run-record.ts';
import type { RejectCategory } from '../destinations/destination.ts';
import type { RunProgress } from '../engine/run-recorder.ts';
import type { Plan } from '../engine/plan-sync.ts';
import type { Row } from '../sources/source.ts';
import type { SyncOverview } from '../server/sync-overview.ts';
import type { WorkerInfo } from '../worker/worker-registry.ts';
import type { SyncDefinition } from '../server/sync-definition.ts';
import type { RejectedGroup } from '../state/rejected-groups.ts';

export type { RejectedRow, RunProfile, RunSummary, TraceLine, RejectCategory, RunProgress, Plan, Row, SyncOverview, WorkerInfo, SyncDefinition, RejectedGroup };

export interface RunDetail {
  summary: RunSummary;
  profile: RunProfile | null;
  trace: TraceLine[];
  rejectedByCategory: Partial<Record<RejectCategory, number>>;
  rejectedGroups: RejectedGroup[];
  progress: RunProgress | null;
}

export interface RejectedPage {
  total: number;
  offset: number;
  limit: number;
  rows: RejectedRow[];
}

/** GET /api/syncs/{sync}/rejected: the rows the sync rejects now. */
export interface CurrentRejected extends RejectedPage {
  groups: RejectedGroup[];
}

const TOKEN_KEY = 'lastmile.token';

/** The API token lives in localStorage; `?token=` in the address is taken once and removed from it. */
export function takeTokenFromUrl(): void {
  const url = new URL(window.location.href);
  const token = url.searchParams.get('token');
  if (!token) return;
  localStorage.setItem(TOKEN_KEY, token);
  url.searchParams.delete('token');
  window.history.replaceState(null, '', url.pathname + url.search + url.hash);
}

export const getToken = () => localStorage.getItem(TOKEN_KEY);
export const setToken = (token: string) => localStorage.setItem(TOKEN_KEY, token);
export const clearToken = () => localStorage.removeItem(TOKEN_KEY);

export class ApiError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

type Listener = () => void;
const unauthorizedListeners = new Set<Listener>();
export function onUnauthorized(listener: Listener): () => void {
  unauthorizedListeners.add(listener);
  return () => unauthorizedListeners.delete(listener);
}

export async function api<T>(path: string, init: RequestInit = {}): Promise<T> {
  const headers = new Headers(init.headers);
  const token = getToken();
  if (token) headers.set('authorization', `Bearer ${token}`);
  if (init.body) headers.set('content-type', 'application/json');
  const response = await fetch(path, { ...init, headers });
  const body = await response.json().catch(() => ({}));
  if (response.status === 401) unauthorizedListeners.forEach((listener) => listener());
  if (!response.ok) throw new ApiError(response.status, (body as { message?: string }).message ?? `HTTP ${response.status}`);
  return body as T;
}

export const enc = encodeURIComponent;
