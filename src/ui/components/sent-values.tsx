/** The values a rejected row carried, as `field: value` lines (a long value is cut, its whole text in the tooltip). */
export function SentValues({ sent }: { sent: Record<string, unknown> | undefined }) {
  if (!sent) return <span className="muted">—</span>;
  return (
    <dl className="sent">
      {Object.entries(sent).map(([field, value]) => {
        const text = typeof value === 'string' ? value : JSON.stringify(value);
        return <div key={field}><dt>{field}</dt><dd title={text}>{text.length > 60 ? `${text.slice(0, 60)}…` : text}</dd></div>;
      })}
    </dl>
  );
}
