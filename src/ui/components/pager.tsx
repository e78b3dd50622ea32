import { n } from '../format.ts';

/** "51–100 of 230" with Previous and Next, a page of `size` rows at a time. */
export function Pager({ offset, shown, total, size, onOffset }: { offset: number; shown: number; total: number; size: number; onOffset: (offset: number) => void }) {
  return (
    <div className="pager">
      <span className="muted small">{total === 0 ? 'none' : `${n(offset + 1)}–${n(offset + shown)} of ${n(total)}`}</span>
      <div className="actions">
        <button disabled={offset === 0} onClick={() => onOffset(Math.max(0, offset - size))}>Previous</button>
        <button disabled={offset + size >= total} onClick={() => onOffset(offset + size)}>Next</button>
      </div>
    </div>
  );
}
