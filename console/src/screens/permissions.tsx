import type { ApiKeyWithGrants } from '@promptgate/sdk';
import { useEffect, useState, type FormEvent } from 'react';
import { useAsync } from '../hooks.ts';
import { Link } from '../router.tsx';
import { canManageKeys, KEYS_REASON, useClient, useRole } from '../session.tsx';
import { ErrorBox, Loading, PageHeader } from '../ui.tsx';
import { AccessChoice } from './create-key.tsx';
import { PermissionPreview } from './permission-preview.tsx';
import { emptySelection, ResourcePicker, type Selection } from './picker.tsx';

function selectionOf(key: ApiKeyWithGrants): Selection {
  return {
    prompts: Object.fromEntries(key.prompts.map((p) => [p.id, p.name])),
    flows: Object.fromEntries(key.flows.map((f) => [f.id, { name: f.name, covers: f.steps.map((s) => s.prompt.name) }])),
  };
}

/** Manage Permissions: ORGANIZATION or SPECIFIC, with the prompts and flows granted. */
export function PermissionsScreen({ organizationId, apiKeyId }: { organizationId: string; apiKeyId: string }) {
  const client = useClient();
  const role = useRole(organizationId);
  const key = useAsync(() => client.apiKeyPermissions(apiKeyId), [client, apiKeyId]);
  const [access, setAccess] = useState<'ORGANIZATION' | 'SPECIFIC'>('ORGANIZATION');
  const [selection, setSelection] = useState<Selection>(emptySelection);
  const [error, setError] = useState<unknown>(null);
  const [saved, setSaved] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    if (!key.data) return;
    setAccess(key.data.access);
    setSelection(selectionOf(key.data));
  }, [key.data]);

  if (key.loading && !key.data) return <Loading what="the key" />;
  if (key.error || !key.data) return <ErrorBox error={key.error ?? new Error('No such key')} title="Could not load the key" />;
  const k = key.data;
  const manage = canManageKeys(role);

  const before = selectionOf(k);
  const changes = describeChange(k.access, before, access, selection);

  const save = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    setSaved(null);
    try {
      const specific = access === 'SPECIFIC';
      const updated = await client.updateApiKeyPermissions({
        apiKeyId: k.id,
        access,
        promptIds: specific ? Object.keys(selection.prompts) : [],
        flowIds: specific ? Object.keys(selection.flows) : [],
      });
      setSaved(`Saved: “${updated.name}” is now ${updated.access === 'ORGANIZATION' ? 'organization-wide' : 'limited to what is chosen'}. It applies from the key's next request.`);
      key.reload();
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };

  return (
    <>
      <PageHeader title={`Manage permissions: ${k.name}`} />
      <p className="muted">
        <code>{k.prefix}…</code> · <Link to={`/orgs/${organizationId}/keys`}>All API keys</Link>
      </p>
      {!manage ? (
        <p className="note">{KEYS_REASON}</p>
      ) : (
        <form onSubmit={(e) => void save(e)} className="stack form-wide">
          <AccessChoice value={access} onChange={setAccess} />
          {access === 'SPECIFIC' ? <ResourcePicker organizationId={organizationId} value={selection} onChange={setSelection} /> : null}
          <section aria-labelledby="effect-title" className="effect">
            <h2 id="effect-title">Changes to the grants</h2>
            {changes.length ? (
              <ul>
                {changes.map((c) => (
                  <li key={c}>{c}</li>
                ))}
              </ul>
            ) : (
              <p className="muted">No change.</p>
            )}
          </section>
          <PermissionPreview apiKeyId={k.id} pending={{ access, promptIds: Object.keys(selection.prompts), flowIds: Object.keys(selection.flows) }} />
          <ErrorBox error={error} title="Could not save the permissions" />
          {saved ? (
            <p role="status" className="success">
              {saved}
            </p>
          ) : null}
          <div className="row">
            <button type="submit" className="primary" disabled={busy || changes.length === 0}>
              {busy ? 'Saving…' : 'Save permissions'}
            </button>
          </div>
        </form>
      )}
    </>
  );
}

/** The grants a save would change, in words (the server applies it at once; the preview below says what that changes in effect). */
function describeChange(fromAccess: string, from: Selection, toAccess: string, to: Selection): string[] {
  if (fromAccess !== toAccess) {
    if (toAccess === 'ORGANIZATION') return ['The key will reach every prompt and flow of the organization, present and future.'];
    const names = [...Object.values(to.prompts), ...Object.values(to.flows).map((f) => `${f.name} (flow)`)];
    return [`The key will reach only: ${names.length ? names.join(', ') : 'nothing'}. Calls to anything else are refused (NOT_GRANTED).`];
  }
  if (toAccess === 'ORGANIZATION') return [];
  const out: string[] = [];
  const added = [...diff(to.prompts, from.prompts).map((id) => to.prompts[id]!), ...diff(to.flows, from.flows).map((id) => `${to.flows[id]!.name} (flow)`)];
  const removed = [...diff(from.prompts, to.prompts).map((id) => from.prompts[id]!), ...diff(from.flows, to.flows).map((id) => `${from.flows[id]!.name} (flow)`)];
  if (added.length) out.push(`Grants: ${added.join(', ')}.`);
  if (removed.length) out.push(`Takes away: ${removed.join(', ')}. Calls to it are refused from the next request.`);
  return out;
}

const diff = (a: Record<string, unknown>, b: Record<string, unknown>) => Object.keys(a).filter((id) => !(id in b));
