/** Usage of one key: runs, failures, p95 latency and tokens per day, and the per-resource breakdown. */
import type { ApiKeyDailyUsage, Usage } from '@promptgate/sdk';
import { useEffect, useId, useRef, useState } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { useAsync } from '../hooks.ts';
import { Link } from '../router.tsx';
import { useClient } from '../session.tsx';
import { Empty, ErrorBox, Loading, PageHeader } from '../ui.tsx';

interface DailyUsage {
  days: number[]; // seconds since the epoch, the start of each UTC day
  perDay: Usage[];
  whole: ApiKeyDailyUsage;
}

/** The window's figures in ONE request: the whole, per prompt or flow, and per UTC day (all aggregated in SQL). */
async function loadUsage(client: ReturnType<typeof useClient>, apiKeyId: string, windowDays: number): Promise<DailyUsage> {
  const whole = await client.apiKeyDailyUsage(apiKeyId, { days: windowDays });
  if (!whole) throw new Error(`No key ${apiKeyId}`);
  return {
    days: whole.dailyUsage.map((d) => Date.parse(`${d.day}T00:00:00Z`) / 1000),
    perDay: whole.dailyUsage.map((d) => d.usage),
    whole,
  };
}

export default function UsageScreen({ organizationId, apiKeyId }: { organizationId: string; apiKeyId: string }) {
  const client = useClient();
  const [windowDays, setWindowDays] = useState(14);
  const usage = useAsync(() => loadUsage(client, apiKeyId, windowDays), [client, apiKeyId, windowDays]);
  const id = useId();
  const name = usage.data?.whole.name ?? 'key';

  return (
    <>
      <PageHeader title={`Usage: ${name}`} />
      <p className="muted">
        <Link to={`/orgs/${organizationId}/keys`}>All API keys</Link>
      </p>
      <div className="field inline">
        <label htmlFor={`${id}-window`}>Window</label>
        <select id={`${id}-window`} value={windowDays} onChange={(e) => setWindowDays(Number(e.target.value))}>
          <option value={7}>Last 7 days</option>
          <option value={14}>Last 14 days</option>
          <option value={30}>Last 30 days</option>
        </select>
      </div>
      <ErrorBox error={usage.error} title="Could not load the usage" />
      {usage.loading ? <Loading what="usage" /> : null}
      {usage.data ? <UsageFigures data={usage.data} organizationId={organizationId} /> : null}
    </>
  );
}

function UsageFigures({ data, organizationId }: { data: DailyUsage; organizationId: string }) {
  const u = data.whole.usage;
  return (
    <>
      <dl className="figures">
        <div>
          <dt>Runs</dt>
          <dd>{u.runs}</dd>
        </div>
        <div>
          <dt>Failed</dt>
          <dd>{u.failed}</dd>
        </div>
        <div>
          <dt>p95 latency</dt>
          <dd>{u.p95DurationMs === null || u.p95DurationMs === undefined ? '—' : `${Math.round(u.p95DurationMs)} ms`}</dd>
        </div>
        <div>
          <dt>Tokens</dt>
          <dd>{u.promptTokens + u.completionTokens}</dd>
        </div>
      </dl>
      <div className="charts">
        <Chart
          title="Runs and failures per day"
          days={data.days}
          series={[
            { label: 'Runs', values: data.perDay.map((d) => d.runs), stroke: '#2456c7' },
            { label: 'Failed', values: data.perDay.map((d) => d.failed), stroke: '#b3261e' },
          ]}
        />
        <Chart title="p95 latency per day (ms)" days={data.days} series={[{ label: 'p95 ms', values: data.perDay.map((d) => d.p95DurationMs ?? null), stroke: '#7a4bb8' }]} />
        <Chart
          title="Tokens per day"
          days={data.days}
          series={[
            { label: 'Prompt tokens', values: data.perDay.map((d) => d.promptTokens), stroke: '#1f7a4d' },
            { label: 'Completion tokens', values: data.perDay.map((d) => d.completionTokens), stroke: '#a35d00' },
          ]}
        />
      </div>
      <section aria-labelledby="breakdown-title">
        <h2 id="breakdown-title">By prompt and flow</h2>
        {data.whole.usageByResource.length ? (
          <div className="table-wrap">
            <table>
              <thead>
                <tr>
                  <th scope="col">Prompt or flow</th>
                  <th scope="col">Runs</th>
                  <th scope="col">Failed</th>
                  <th scope="col">p95 ms</th>
                  <th scope="col">Tokens</th>
                </tr>
              </thead>
              <tbody>
                {data.whole.usageByResource.map((r) => {
                  const target = r.prompt ?? r.flow;
                  const path = r.prompt ? 'prompts' : 'flows';
                  return (
                    <tr key={`${r.kind}-${target?.id}`}>
                      <th scope="row">{target ? <Link to={`/orgs/${organizationId}/${path}/${target.id}`}>{target.name}</Link> : '(deleted)'} <span className="muted small">{r.kind.toLowerCase()}</span></th>
                      <td>{r.usage.runs}</td>
                      <td>{r.usage.failed}</td>
                      <td>{r.usage.p95DurationMs === null || r.usage.p95DurationMs === undefined ? '—' : Math.round(r.usage.p95DurationMs)}</td>
                      <td>{r.usage.promptTokens + r.usage.completionTokens}</td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          </div>
        ) : (
          <Empty>No runs with this key in the window.</Empty>
        )}
      </section>
    </>
  );
}

interface Series {
  label: string;
  values: (number | null)[];
  stroke: string;
}

/** One uPlot chart, its figures also given as a table for screen readers. */
function Chart({ title, days, series }: { title: string; days: number[]; series: Series[] }) {
  const box = useRef<HTMLDivElement>(null);
  const id = useId();
  useEffect(() => {
    const element = box.current;
    if (!element) return;
    const width = Math.max(280, Math.min(560, element.clientWidth || 560));
    const plot = new uPlot(
      {
        width,
        height: 200,
        series: [{}, ...series.map((s) => ({ label: s.label, stroke: s.stroke, width: 2 }))],
        axes: [{}, { size: 50 }],
        scales: { x: { time: true } },
        legend: { show: true },
      },
      [days, ...series.map((s) => s.values)] as uPlot.AlignedData,
      element,
    );
    return () => plot.destroy();
  }, [days, series]);
  return (
    <figure className="chart" aria-labelledby={id}>
      <figcaption id={id}>{title}</figcaption>
      <div ref={box} aria-hidden="true" />
      <details>
        <summary>Figures</summary>
        <table className="small">
          <thead>
            <tr>
              <th scope="col">Day</th>
              {series.map((s) => (
                <th scope="col" key={s.label}>
                  {s.label}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {days.map((d, i) => (
              <tr key={d}>
                <th scope="row">{new Date(d * 1000).toISOString().slice(0, 10)}</th>
                {series.map((s) => (
                  <td key={s.label}>{s.values[i] ?? '—'}</td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      </details>
    </figure>
  );
}
