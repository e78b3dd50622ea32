import type { TraceLine } from '../api.ts';
import { traceStepLabel } from '../format.ts';

/**
 * The run trace exactly as the CLI prints it (formatTrace) (`// 1. query warehouse     records_fetched: 14,205`),
 * with the step labels and outcomes coloured.
 */
export function TraceView({ lines, source }: { lines: TraceLine[]; source?: string }) {
  if (lines.length === 0) return <pre className="trace"><span className="c">// no trace yet</span></pre>;
  let step = 0;
  return (
    <pre className="trace" data-testid="trace">
      {lines.map((line, i) => {
        // As formatTrace does: the step's label on its first line, blank on the lines that follow.
        const label = line.step === step ? '' : `${line.step}. ${traceStepLabel(line.step, source)}`;
        step = line.step;
        const [first, ...more] = line.text.split('\n');
        return (
          <div key={i}>
            <span className="c">{'// '}</span>
            <span className="step">{label.padEnd(22)}</span>
            {' '}
            <Outcome text={first ?? ''} />
            {more.map((extra, j) => <div key={j}><span className="c">{'//'}</span>{' '.repeat(24)}{extra}</div>)}
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
