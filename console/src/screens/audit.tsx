import type { AuditEvent } from '@promptgate/sdk';
import { useState } from 'react';
import { useDebounced, useSearchList } from '../hooks.ts';
import { canManageKeys, useClient, useRole } from '../session.tsx';
import { Empty, ErrorBox, formatDate, Loading, PageHeader, SearchBox } from '../ui.tsx';

const eventMatches = (e: AuditEvent, q: string) =>
  [e.action, e.targetId ?? '', e.actorUser?.name ?? '', e.actorUser?.email ?? '', e.actorApiKey?.name ?? ''].some((s) => s.toLowerCase().includes(q));

/** Who changed what, newest first, each change as a before/after table. */
export function AuditScreen({ organizationId }: { organizationId: string }) {
  const client = useClient();
  const role = useRole(organizationId);
  const allowed = canManageKeys(role);
  const [search, setSearch] = useState('');
  const query = useDebounced(search);
  const list = useSearchList<AuditEvent>(
    (page) => (allowed ? client.auditLog(organizationId, page) : Promise.resolve({ nodes: [], totalCount: 0, hasNextPage: false, endCursor: null })),
    eventMatches,
    query,
    [client, organizationId, allowed],
  );

  if (!allowed) {
    return (
      <>
        <PageHeader title="Audit log" />
        <p className="note">The audit log is for admins and owners. Your role here is {role?.toLowerCase() ?? 'unknown'}.</p>
      </>
    );
  }
  return (
    <>
      <PageHeader title="Audit log" />
      <SearchBox label="Search by action, actor or target" value={search} onChange={setSearch} />
      <ErrorBox error={list.error} title="Could not load the audit log" />
      <p className="muted small" aria-live="polite">
        {list.totalCount === null ? '' : `${list.items.length} of ${list.totalCount} events${query ? ` (matching among ${list.scanned})` : ''}`}
      </p>
      {list.items.length ? (
        <ol className="events">
          {list.items.map((e) => (
            <li key={e.id}>
              <p>
                <strong>{e.action}</strong> by {e.actorUser ? `${e.actorUser.name} <${e.actorUser.email}>` : e.actorApiKey ? `key ${e.actorApiKey.name}` : 'the system'}
                {e.targetId ? (
                  <>
                    {' '}
                    on <code>{e.targetId}</code>
                  </>
                ) : null}{' '}
                <span className="muted small">{formatDate(e.createdAt)}</span>
              </p>
              <ChangeDiff changes={e.changes} />
            </li>
          ))}
        </ol>
      ) : !list.loading && !list.error ? (
        <Empty>{query ? 'No event matches.' : 'No events yet.'}</Empty>
      ) : null}
      {list.loading ? <Loading what="events" /> : null}
      {list.hasMore && !list.loading ? (
        <button type="button" onClick={list.loadMore}>
          Older events
        </button>
      ) : null}
    </>
  );
}

type Changes = { before?: Record<string, unknown> | null; after?: Record<string, unknown> | null; [detail: string]: unknown } | null;

const show = (value: unknown) => (value === undefined ? '—' : typeof value === 'string' ? value : JSON.stringify(value));

/** The fields that changed, before and after; fields that stayed the same are left out. */
export function ChangeDiff({ changes }: { changes: unknown }) {
  const c = (changes ?? null) as Changes;
  if (!c || typeof c !== 'object') return null;
  const before = c.before ?? {};
  const after = c.after ?? {};
  const fields = [...new Set([...Object.keys(before), ...Object.keys(after)])].filter((f) => show(before[f]) !== show(after[f]));
  const details = Object.entries(c).filter(([k]) => k !== 'before' && k !== 'after');
  return (
    <>
      {fields.length ? (
        <div className="table-wrap">
          <table className="diff">
            <thead>
              <tr>
                <th scope="col">Field</th>
                <th scope="col">Before</th>
                <th scope="col">After</th>
              </tr>
            </thead>
            <tbody>
              {fields.map((f) => (
                <tr key={f}>
                  <th scope="row">{f}</th>
                  <td className="removed">
                    <del>{show(before[f])}</del>
                  </td>
                  <td className="added">
                    <ins>{show(after[f])}</ins>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
      {details.map(([k, v]) => (
        <p key={k} className="small">
          {k}: <code>{show(v)}</code>
        </p>
      ))}
    </>
  );
}
