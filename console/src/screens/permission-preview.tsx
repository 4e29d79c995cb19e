/**
 * What saving a key's permissions would do, asked of the server before the admin saves
 * (`previewApiKeyPermissions`, which runs the change in a transaction it rolls back): the
 * prompts and flows gained and lost, and the key's recent calls the new permissions would
 * refuse, so an admin sees who they are about to cut off.
 */
import type { PermissionPreview as Preview } from '@promptgate/sdk';
import { useEffect, useId, useRef, useState } from 'react';
import { useDebounced } from '../hooks.ts';
import { useClient } from '../session.tsx';
import { ErrorBox, formatDate } from '../ui.tsx';

/** The change the admin is about to save, as `updateApiKeyPermissions` takes it. */
export interface PendingPermissions {
  access: 'ORGANIZATION' | 'SPECIFIC';
  promptIds: string[];
  flowIds: string[];
}

const DAY_MS = 24 * 60 * 60 * 1000;
const WINDOWS = [7, 30] as const;

/**
 * The preview of `pending` for the key `apiKeyId`. It asks again once the selection has
 * stopped changing (debounced), and an answer to an older selection is never shown.
 */
export function PermissionPreview({ apiKeyId, pending }: { apiKeyId: string; pending: PendingPermissions }) {
  const client = useClient();
  const id = useId();
  const [days, setDays] = useState<(typeof WINDOWS)[number]>(30);
  // The same selection in another order is the same change: ask once. An organization-wide key
  // is saved without grants (as the screen saves it), so its preview is asked without them too.
  const specific = pending.access === 'SPECIFIC';
  const asked = useDebounced(
    JSON.stringify({
      access: pending.access,
      promptIds: specific ? [...pending.promptIds].sort() : [],
      flowIds: specific ? [...pending.flowIds].sort() : [],
    }),
    300,
  );
  const [preview, setPreview] = useState<Preview | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [loading, setLoading] = useState(true);
  const latest = useRef(0);

  useEffect(() => {
    const request = ++latest.current;
    const input = JSON.parse(asked) as PendingPermissions;
    setLoading(true);
    client.previewApiKeyPermissions({ apiKeyId, ...input }, new Date(Date.now() - days * DAY_MS)).then(
      (answer) => {
        if (request !== latest.current) return;
        setPreview(answer);
        setError(null);
        setLoading(false);
      },
      (e: unknown) => {
        if (request !== latest.current) return;
        setPreview(null);
        setError(e);
        setLoading(false);
      },
    );
  }, [client, apiKeyId, asked, days]);

  const gained = preview ? [...preview.gainedPrompts.map((p) => p.name), ...preview.gainedFlows.map((f) => `${f.name} (flow)`)] : [];
  const lost = preview ? [...preview.lostPrompts.map((p) => p.name), ...preview.lostFlows.map((f) => `${f.name} (flow)`)] : [];

  return (
    <section aria-labelledby={`${id}-title`} aria-busy={loading} className="effect preview" data-testid="permission-preview">
      <h2 id={`${id}-title`}>Preview of the change</h2>
      <div className="row">
        <label htmlFor={`${id}-days`}>Recent calls from the last</label>
        <select id={`${id}-days`} value={days} onChange={(e) => setDays(Number(e.target.value) as (typeof WINDOWS)[number])}>
          {WINDOWS.map((d) => (
            <option key={d} value={d}>
              {d} days
            </option>
          ))}
        </select>
        <span role="status" aria-live="polite" className="muted small">
          {loading ? 'Checking the effect with the server…' : ''}
        </span>
      </div>
      <ErrorBox error={error} title="Could not preview the change" />
      {preview ? (
        <>
          <p className={preview.refusedRuns > 0 ? 'warning refused-total' : 'note refused-total'} data-testid="refused-runs">
            {preview.refusedRuns > 0
              ? `Saving would refuse ${count(preview.refusedRuns, 'run')} the key made in the last ${days} days.`
              : `Saving refuses none of the key's runs of the last ${days} days.`}
          </p>
          <dl className="preview-changes">
            <dt>Gains</dt>
            <dd data-testid="preview-gained">{gained.length ? gained.join(', ') : 'nothing'}</dd>
            <dt>Loses</dt>
            <dd data-testid="preview-lost">{lost.length ? lost.join(', ') : 'nothing'}</dd>
          </dl>
          {preview.wouldRefuse.length ? (
            <table className="would-refuse">
              <caption>The recent calls it would refuse</caption>
              <thead>
                <tr>
                  <th scope="col">Prompt or flow</th>
                  <th scope="col">Runs</th>
                  <th scope="col">End users</th>
                  <th scope="col">Last run</th>
                </tr>
              </thead>
              <tbody>
                {preview.wouldRefuse.map((r) => {
                  const name = r.prompt ? r.prompt.name : `${r.flow?.name ?? 'Deleted'} (flow)`;
                  return (
                    <tr key={r.prompt?.id ?? r.flow?.id ?? name} data-testid={`would-refuse-${name}`}>
                      <th scope="row">{name}</th>
                      <td>{r.runs}</td>
                      <td>{r.endUsers}</td>
                      <td>{formatDate(r.lastRunAt)}</td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          ) : null}
        </>
      ) : null}
    </section>
  );
}

const count = (n: number, noun: string) => `${n} ${noun}${n === 1 ? '' : 's'}`;
