import type { ApiKey, ApiKeyWithDailyRuns, IssuedApiKey } from '@promptgate/sdk';
import { useId, useState } from 'react';
import { useDebounced, useServerSearchList } from '../hooks.ts';
import { Link } from '../router.tsx';
import { Sparkline } from '../sparkline.tsx';
import { canManageKeys, KEYS_REASON, useClient, useRole } from '../session.tsx';
import { Dialog, Empty, ErrorBox, formatDate, Loading, PageHeader, SearchBox, SecretReveal, StatusBadge } from '../ui.tsx';

/** Days of runs each key's sparkline shows. */
const SPARKLINE_DAYS = 14;

function describeAccess(key: ApiKey): string {
  if (key.access === 'ORGANIZATION') return 'Organization-wide';
  const parts = [...key.prompts.map((p) => p.name), ...key.flows.map((f) => `${f.name} (flow)`)];
  return parts.length ? `Specific: ${parts.join(', ')}` : 'Specific: nothing granted';
}

export function ApiKeysScreen({ organizationId }: { organizationId: string }) {
  const client = useClient();
  const role = useRole(organizationId);
  const manage = canManageKeys(role);
  const [search, setSearch] = useState('');
  const query = useDebounced(search);
  // One request per page: the keys with their runs per day, for the sparklines.
  const list = useServerSearchList<ApiKeyWithDailyRuns>(
    (page) => client.apiKeysWithDailyRuns(organizationId, { ...page, days: SPARKLINE_DAYS }),
    query,
    [client, organizationId],
  );
  const [rotating, setRotating] = useState<ApiKey | null>(null);
  const [revoking, setRevoking] = useState<ApiKey | null>(null);

  return (
    <>
      <PageHeader title="API keys">
        {manage ? (
          <Link className="button primary" to={`/orgs/${organizationId}/keys/new`}>
            New API key
          </Link>
        ) : null}
      </PageHeader>
      {!manage ? (
        <p className="note" data-testid="no-key-management">
          {KEYS_REASON} Your role here is {role?.toLowerCase() ?? 'unknown'}: you can read the keys and their usage.
        </p>
      ) : null}
      <SearchBox label="Search keys by name" value={search} onChange={setSearch} />
      <ErrorBox error={list.error} title="Could not load the keys" />
      <p className="muted small" aria-live="polite">
        {list.totalCount === null ? '' : query ? `${list.items.length} of ${list.totalCount} keys matching “${query}”` : `${list.items.length} of ${list.totalCount} keys`}
      </p>
      {list.items.length ? (
        <div className="table-wrap">
          <table>
            <caption className="visually-hidden">API keys of the organization</caption>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Status</th>
                <th scope="col">Access</th>
                <th scope="col">Expires</th>
                <th scope="col">Last used</th>
                <th scope="col">Runs, {SPARKLINE_DAYS} days</th>
                <th scope="col">Actions</th>
              </tr>
            </thead>
            <tbody>
              {list.items.map((key) => (
                <tr key={key.id} data-testid={`key-${key.name}`}>
                  <th scope="row">
                    {key.name}
                    <br />
                    <code className="small">{key.prefix}…</code>
                  </th>
                  <td>
                    <StatusBadge status={key.status} />
                  </td>
                  <td>{describeAccess(key)}</td>
                  <td>{formatDate(key.expiresAt, 'Never')}</td>
                  <td>{formatDate(key.lastUsedAt, 'Never')}</td>
                  <td>
                    <Sparkline days={key.dailyUsage} label={`Runs per day of ${key.name}`} />
                  </td>
                  <td className="actions-cell">
                    <Link to={`/orgs/${organizationId}/keys/${key.id}/usage`}>Usage</Link>
                    {manage && key.status !== 'REVOKED' ? (
                      <>
                        <Link to={`/orgs/${organizationId}/keys/${key.id}/permissions`}>Manage permissions</Link>
                        <button type="button" onClick={() => setRotating(key)}>
                          Rotate<span className="visually-hidden"> {key.name}</span>
                        </button>
                        <button type="button" className="danger" onClick={() => setRevoking(key)}>
                          Revoke<span className="visually-hidden"> {key.name}</span>
                        </button>
                      </>
                    ) : null}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : !list.loading && !list.error ? (
        <Empty>{query ? `No key matches “${query}”.` : 'No API keys yet.'}</Empty>
      ) : null}
      {list.loading ? <Loading what="keys" /> : null}
      {list.hasMore && !list.loading ? (
        <button type="button" onClick={list.loadMore}>
          More keys
        </button>
      ) : null}
      <RotateDialog apiKey={rotating} onClose={() => setRotating(null)} onDone={list.reload} />
      <RevokeDialog apiKey={revoking} onClose={() => setRevoking(null)} onDone={list.reload} />
    </>
  );
}

function RotateDialog({ apiKey, onClose, onDone }: { apiKey: ApiKey | null; onClose(): void; onDone(): void }) {
  const client = useClient();
  const [grace, setGrace] = useState('3600');
  const [issued, setIssued] = useState<IssuedApiKey | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const id = useId();
  const close = () => {
    setIssued(null);
    setError(null);
    onClose();
  };
  const rotate = async () => {
    if (!apiKey) return;
    setBusy(true);
    setError(null);
    try {
      setIssued(await client.rotateApiKey({ apiKeyId: apiKey.id, gracePeriodSeconds: Number(grace) }));
      onDone();
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  return (
    <Dialog title={apiKey ? `Rotate “${apiKey.name}”` : 'Rotate'} open={apiKey !== null} onClose={close}>
      {issued ? (
        <>
          <SecretReveal secret={issued.secret} keyName={issued.apiKey.name} />
          <button type="button" onClick={close}>
            Done
          </button>
        </>
      ) : (
        <>
          <p>The key keeps its id and permissions and gets a new secret. The old secret keeps working during the grace period, then never again.</p>
          <label htmlFor={`${id}-grace`}>Grace period for the old secret</label>
          <select id={`${id}-grace`} value={grace} onChange={(e) => setGrace(e.target.value)}>
            <option value="0">None: the old secret stops now</option>
            <option value="3600">1 hour</option>
            <option value="86400">1 day</option>
            <option value="604800">7 days</option>
          </select>
          <ErrorBox error={error} title="Could not rotate the key" />
          <div className="row">
            <button type="button" className="primary" disabled={busy} onClick={() => void rotate()}>
              Rotate {apiKey?.name}
            </button>
            <button type="button" onClick={close}>
              Cancel
            </button>
          </div>
        </>
      )}
    </Dialog>
  );
}

function RevokeDialog({ apiKey, onClose, onDone }: { apiKey: ApiKey | null; onClose(): void; onDone(): void }) {
  const client = useClient();
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const close = () => {
    setError(null);
    onClose();
  };
  const revoke = async () => {
    if (!apiKey) return;
    setBusy(true);
    setError(null);
    try {
      await client.revokeApiKey({ apiKeyId: apiKey.id });
      onDone();
      close();
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  return (
    <Dialog title={apiKey ? `Revoke “${apiKey.name}”?` : 'Revoke'} open={apiKey !== null} onClose={close}>
      <p>
        The key <strong>{apiKey?.name}</strong> (<code>{apiKey?.prefix}…</code>) stops working at once and for good: every app using it is refused
        from its next request. This cannot be undone.
      </p>
      <ErrorBox error={error} title="Could not revoke the key" />
      <div className="row">
        <button type="button" className="danger" disabled={busy} onClick={() => void revoke()}>
          Revoke {apiKey?.name}
        </button>
        <button type="button" onClick={close} autoFocus>
          Cancel
        </button>
      </div>
    </Dialog>
  );
}
