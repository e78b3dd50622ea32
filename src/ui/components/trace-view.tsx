import type { TraceLine } from '../api.ts';
import { formatTrace } from '../format.ts';

/**
 * The run trace exactly as the CLI prints it (`// 1. query warehouse     records_fetched: 14,205`),
 * with the step labels and outcomes coloured.
 */
export function TraceView({ lines }: { lines: TraceLine[] }) {
  if (lines.length === 0) return <pre className="trace"><span className="c">// no trace yet</span></pre>;
  const text = formatTrace(lines).split('\n');
  return (
    <pre className="trace" data-testid="trace">
      {text.map((line, i) => {
        const label = line.slice(3, 25);
        const rest = line.slice(25);
        return (
          <div key={i}>
            <span className="c">{'// '}</span>
            <span className="step">{label}</span>
            {' '}
            <Outcome text={rest.replace(/^ /, '')} />
          </div>
        );
      })}
    </pre>
  );
}

/** Colours HTTP outcomes and the final status inside a trace line. */
function Outcome({ text }: { text: string }) {
  const parts = text.split(/(\b[1-5]\d\d(?: [A-Z][A-Za-z]*)+|SUCCESS|PARTIAL|FAILED)/g);
  return (
    <>
      {parts.map((part, i) => {
        if (/^2\d\d |^SUCCESS$/.test(part)) return <span key={i} className="ok">{part}</span>;
        if (/^[45]\d\d |^FAILED$|^PARTIAL$/.test(part)) return <span key={i} className="bad">{part}</span>;
        return <span key={i}>{part}</span>;
      })}
    </>
  );
}
