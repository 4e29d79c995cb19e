import type { Membership } from '@promptgate/sdk';
import { useId, useState, type FormEvent } from 'react';
import { useAsync } from '../hooks.ts';
import { useClient, useSession, type Role } from '../session.tsx';
import { Empty, ErrorBox, Loading, PageHeader } from '../ui.tsx';

const ROLES: Role[] = ['OWNER', 'ADMIN', 'MEMBER'];

/** What the caller may do to a member with `target` role, or why not (the server decides anyway). */
function mayChange(caller: Role | null, target: Role): string | null {
  if (caller === 'OWNER') return null;
  if (caller === 'ADMIN') return target === 'MEMBER' ? null : 'Only owners change admins and owners.';
  return 'Only admins and owners manage members.';
}
function mayGive(caller: Role | null, role: Role): boolean {
  return caller === 'OWNER' || (caller === 'ADMIN' && role === 'MEMBER');
}

export function MembersScreen({ organizationId }: { organizationId: string }) {
  const client = useClient();
  const { viewer, refreshViewer } = useSession();
  const org = useAsync(() => client.organization(organizationId), [client, organizationId]);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState<string | null>(null);

  if (org.loading && !org.data) return <Loading what="the members" />;
  if (org.error || !org.data) return <ErrorBox error={org.error ?? new Error('No such organization')} title="Could not load the members" />;
  const role = (org.data.viewerRole ?? null) as Role | null;
  const me = viewer?.user?.id;

  const act = async (what: string, action: () => Promise<unknown>) => {
    setBusy(what);
    setError(null);
    try {
      await action();
      org.reload();
      refreshViewer();
    } catch (e) {
      setError(e);
    } finally {
      setBusy(null);
    }
  };

  return (
    <>
      <PageHeader title={`Members of ${org.data.name}`} />
      <p className="muted">Your role: {role?.toLowerCase()}. Owners manage everyone; admins manage members; members read.</p>
      <ErrorBox error={error} title="The change was refused" />
      {org.data.members.length ? (
        <div className="table-wrap">
          <table>
            <caption className="visually-hidden">Members</caption>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Email</th>
                <th scope="col">Role</th>
                <th scope="col">Actions</th>
              </tr>
            </thead>
            <tbody>
              {org.data.members.map((m) => (
                <MemberRow
                  key={m.user.id}
                  member={m}
                  caller={role}
                  isMe={m.user.id === me}
                  busy={busy !== null}
                  onRole={(next) => act(`role-${m.user.id}`, () => client.updateMemberRole({ organizationId, userId: m.user.id, role: next }))}
                  onRemove={() => act(`remove-${m.user.id}`, () => client.removeMember({ organizationId, userId: m.user.id }))}
                />
              ))}
            </tbody>
          </table>
        </div>
      ) : (
        <Empty>No members.</Empty>
      )}
      <AddMember caller={role} onAdd={(email, r) => act('add', () => client.addMember({ organizationId, email, role: r }))} />
    </>
  );
}

function MemberRow({
  member,
  caller,
  isMe,
  busy,
  onRole,
  onRemove,
}: {
  member: Membership;
  caller: Role | null;
  isMe: boolean;
  busy: boolean;
  onRole(role: Role): void;
  onRemove(): void;
}) {
  const id = useId();
  const target = member.role as Role;
  const reason = mayChange(caller, target);
  const removeReason = isMe ? null : reason;
  return (
    <tr>
      <th scope="row">
        {member.user.name}
        {isMe ? ' (you)' : ''}
      </th>
      <td>{member.user.email}</td>
      <td>
        <label htmlFor={id} className="visually-hidden">
          Role of {member.user.name}
        </label>
        <select id={id} value={target} disabled={reason !== null || busy} onChange={(e) => onRole(e.target.value as Role)} aria-describedby={reason ? `${id}-why` : undefined}>
          {ROLES.map((r) => (
            <option key={r} value={r} disabled={!mayGive(caller, r)}>
              {r.toLowerCase()}
            </option>
          ))}
        </select>
        {reason ? (
          <span id={`${id}-why`} className="muted small">
            {' '}
            {reason}
          </span>
        ) : null}
      </td>
      <td>
        <button type="button" className="danger" disabled={removeReason !== null || busy} onClick={onRemove} title={removeReason ?? undefined}>
          {isMe ? 'Leave' : 'Remove'}
          <span className="visually-hidden"> {member.user.name}</span>
        </button>
      </td>
    </tr>
  );
}

function AddMember({ caller, onAdd }: { caller: Role | null; onAdd(email: string, role: Role): Promise<void> }) {
  const [email, setEmail] = useState('');
  const [role, setRole] = useState<Role>('MEMBER');
  const id = useId();
  const allowed = caller === 'OWNER' || caller === 'ADMIN';
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    await onAdd(email, role);
    setEmail('');
  };
  return (
    <form onSubmit={(e) => void submit(e)} className="card stack">
      <h2>Add a member</h2>
      {!allowed ? <p className="note">Only admins and owners add members.</p> : null}
      <p className="muted small">The person needs a PromptGate account already (they sign up with their email).</p>
      <div className="row">
        <div className="field">
          <label htmlFor={`${id}-email`}>Email</label>
          <input id={`${id}-email`} type="email" required value={email} onChange={(e) => setEmail(e.target.value)} disabled={!allowed} />
        </div>
        <div className="field">
          <label htmlFor={`${id}-role`}>Role</label>
          <select id={`${id}-role`} value={role} onChange={(e) => setRole(e.target.value as Role)} disabled={!allowed}>
            {ROLES.map((r) => (
              <option key={r} value={r} disabled={!mayGive(caller, r)}>
                {r.toLowerCase()}
              </option>
            ))}
          </select>
        </div>
        <button type="submit" className="primary" disabled={!allowed}>
          Add member
        </button>
      </div>
    </form>
  );
}
