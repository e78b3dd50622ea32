import { useCallback, useEffect, useRef, useState } from 'react';
import { api } from './api.ts';

/** GETs a path; `refreshMs` polls it (for live pages). `reload()` fetches again now. */
export function useApi<T>(path: string | null, refreshMs?: number) {
  const [data, setData] = useState<T | undefined>();
  const [error, setError] = useState<string | undefined>();
  const [loading, setLoading] = useState(false);
  const current = useRef(path);
  current.current = path;

  const load = useCallback(async () => {
    if (!path) return;
    setLoading(true);
    try {
      const value = await api<T>(path);
      if (current.current === path) {
        setData(value);
        setError(undefined);
      }
    } catch (e) {
      if (current.current === path) setError((e as Error).message);
    } finally {
      setLoading(false);
    }
  }, [path]);

  useEffect(() => {
    setData(undefined);
    void load();
    if (!refreshMs) return;
    const timer = setInterval(() => void load(), refreshMs);
    return () => clearInterval(timer);
  }, [load, refreshMs]);

  return { data, error, loading, reload: load };
}
