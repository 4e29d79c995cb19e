import type { IssuedApiKey } from '@promptgate/sdk';
import { useId, useState, type FormEvent } from 'react';
import { Link } from '../router.tsx';
import { canManageKeys, KEYS_REASON, useClient, useRole } from '../session.tsx';
import { ErrorBox, PageHeader, SecretReveal } from '../ui.tsx';
import { emptySelection, ResourcePicker, type Selection } from './picker.tsx';

export function CreateKeyScreen({ organizationId }: { organizationId: string }) {
  const client = useClient();
  const role = useRole(organizationId);
  const [name, setName] = useState('');
  const [expires, setExpires] = useState('');
  const [access, setAccess] = useState<'ORGANIZATION' | 'SPECIFIC'>('ORGANIZATION');
  const [selection, setSelection] = useState<Selection>(emptySelection);
  const [issued, setIssued] = useState<IssuedApiKey | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const id = useId();

  if (!canManageKeys(role)) {
    return (
      <>
        <PageHeader title="New API key" />
        <p className="note">{KEYS_REASON} Your role here is {role?.toLowerCase() ?? 'unknown'}.</p>
      </>
    );
  }

  if (issued) {
    return (
      <>
        <PageHeader title="API key created" />
        <SecretReveal secret={issued.secret} keyName={issued.apiKey.name} />
        <p>
          <Link to={`/orgs/${organizationId}/keys`}>Done: back to the API keys</Link>
        </p>
      </>
    );
  }

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const specific = access === 'SPECIFIC';
      setIssued(
        await client.createApiKey({
          organizationId,
          name,
          access,
          // The end of the chosen day, in the browser's time zone.
          ...(expires ? { expiresAt: new Date(`${expires}T23:59:59`).toISOString() } : {}),
          ...(specific ? { promptIds: Object.keys(selection.prompts), flowIds: Object.keys(selection.flows) } : {}),
        }),
      );
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };

  return (
    <>
      <PageHeader title="New API key" />
      <form onSubmit={(e) => void submit(e)} className="stack form-wide">
        <div className="field">
          <label htmlFor={`${id}-name`}>Name</label>
          <input id={`${id}-name`} value={name} onChange={(e) => setName(e.target.value)} required placeholder="Partner app" />
        </div>
        <div className="field">
          <label htmlFor={`${id}-expires`}>Expires on (optional)</label>
          <input id={`${id}-expires`} type="date" value={expires} onChange={(e) => setExpires(e.target.value)} aria-describedby={`${id}-expires-help`} />
          <span id={`${id}-expires-help`} className="muted small">
            Empty: the key does not expire.
          </span>
        </div>
        <AccessChoice value={access} onChange={setAccess} />
        {access === 'SPECIFIC' ? <ResourcePicker organizationId={organizationId} value={selection} onChange={setSelection} /> : null}
        <ErrorBox error={error} title="Could not create the key" />
        <div className="row">
          <button type="submit" className="primary" disabled={busy}>
            {busy ? 'Creating…' : 'Create key'}
          </button>
          <Link to={`/orgs/${organizationId}/keys`}>Cancel</Link>
        </div>
      </form>
    </>
  );
}

export function AccessChoice({ value, onChange }: { value: 'ORGANIZATION' | 'SPECIFIC'; onChange(value: 'ORGANIZATION' | 'SPECIFIC'): void }) {
  return (
    <fieldset>
      <legend>Access</legend>
      <label className="check">
        <input type="radio" name="access" checked={value === 'ORGANIZATION'} onChange={() => onChange('ORGANIZATION')} /> Organization-wide: every
        prompt and flow, present and future
      </label>
      <label className="check">
        <input type="radio" name="access" checked={value === 'SPECIFIC'} onChange={() => onChange('SPECIFIC')} /> Specific prompts and flows
      </label>
    </fieldset>
  );
}
