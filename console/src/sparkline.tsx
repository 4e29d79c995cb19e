/**
 * A key's runs per day as a tiny inline line: a glance in a table row, not a chart (the Usage
 * screen has those, with uPlot). Its figures are its accessible name.
 */
export function Sparkline({ days, label }: { days: { day: string; usage: { runs: number } }[]; label: string }) {
  const width = 96;
  const height = 24;
  const values = days.map((d) => d.usage.runs);
  const max = Math.max(1, ...values);
  const step = values.length > 1 ? width / (values.length - 1) : 0;
  const points = values.map((v, i) => `${(i * step).toFixed(1)},${(height - 2 - (v / max) * (height - 4)).toFixed(1)}`).join(' ');
  const total = values.reduce((a, b) => a + b, 0);
  return (
    <svg
      className="sparkline"
      data-testid="sparkline"
      width={width}
      height={height}
      viewBox={`0 0 ${width} ${height}`}
      role="img"
      aria-label={`${label}: ${total} runs over the last ${values.length} days${total ? `, at most ${Math.max(...values)} a day` : ''}`}
    >
      <polyline points={points} fill="none" stroke="currentColor" strokeWidth="1.5" />
    </svg>
  );
}
