const LABELS: Record<string, string> = {
  success: 'Success', partial: 'Partial', failed: 'Failed', running: 'Running', cancelled: 'Cancelled', abandoned: 'Abandoned', never: 'Never run',
};

export function StatusBadge({ status }: { status: string }) {
  return <span className={`badge ${status}`} data-status={status}>{LABELS[status] ?? status}</span>;
}
