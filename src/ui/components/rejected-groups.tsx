import type { RejectedGroup } from '../api.ts';
import { n } from '../format.ts';

/** Rejected rows grouped by the destination's code and message, biggest group first. */
export function RejectedGroups({ groups }: { groups: RejectedGroup[] }) {
  if (groups.length === 0) return null;
  return (
    <table data-testid="rejected-groups">
      <thead><tr><th className="num">Rows</th><th>Category</th><th>Code</th><th>Message</th></tr></thead>
      <tbody>
        {groups.map((g, i) => (
          <tr key={i}>
            <td className="num"><strong>{n(g.count)}</strong></td>
            <td><span className="chip mono">{g.category}</span></td>
            <td>{g.code ? <span className="code">{g.code}</span> : <span className="muted">—</span>}</td>
            <td>{g.message}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
