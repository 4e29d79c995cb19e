/** The routes of the console, and the frame around the signed-in screens. */
import { lazy, Suspense, useEffect, type ReactNode } from 'react';
import { Link, matchPath, navigate, useLocation } from './router.tsx';
import { ApiKeysScreen } from './screens/api-keys.tsx';
import { AuditScreen } from './screens/audit.tsx';
import { CreateKeyScreen } from './screens/create-key.tsx';
import { FlowScreen } from './screens/flow.tsx';
import { MembersScreen } from './screens/members.tsx';
import { PermissionsScreen } from './screens/permissions.tsx';
import { PromptScreen } from './screens/prompt.tsx';
import { PromptsScreen } from './screens/prompts.tsx';
import { SignInScreen } from './screens/sign-in.tsx';
import { useSession } from './session.tsx';
import { ErrorBox, Loading } from './ui.tsx';

// The chart library is loaded only when a usage screen is opened: the first load stays small.
const UsageScreen = lazy(() => import('./screens/usage.tsx'));

type Screen = (params: Record<string, string>) => ReactNode;

const ROUTES: [string, Screen][] = [
  ['/orgs/:org/prompts', (p) => <PromptsScreen organizationId={p.org!} />],
  ['/orgs/:org/prompts/:id', (p) => <PromptScreen organizationId={p.org!} promptId={p.id!} tab="overview" />],
  ['/orgs/:org/prompts/:id/integrate', (p) => <PromptScreen organizationId={p.org!} promptId={p.id!} tab="integrate" />],
  ['/orgs/:org/flows/:id', (p) => <FlowScreen organizationId={p.org!} flowId={p.id!} tab="overview" />],
  ['/orgs/:org/flows/:id/integrate', (p) => <FlowScreen organizationId={p.org!} flowId={p.id!} tab="integrate" />],
  ['/orgs/:org/keys', (p) => <ApiKeysScreen organizationId={p.org!} />],
  ['/orgs/:org/keys/new', (p) => <CreateKeyScreen organizationId={p.org!} />],
  ['/orgs/:org/keys/:id/permissions', (p) => <PermissionsScreen organizationId={p.org!} apiKeyId={p.id!} />],
  ['/orgs/:org/keys/:id/usage', (p) => <UsageScreen organizationId={p.org!} apiKeyId={p.id!} />],
  ['/orgs/:org/audit', (p) => <AuditScreen organizationId={p.org!} />],
  ['/orgs/:org/members', (p) => <MembersScreen organizationId={p.org!} />],
];

export function App() {
  const { pathname } = useLocation();
  const { token } = useSession();

  if (pathname === '/sign-in' || pathname === '/sign-up') {
    return <SignInScreen mode={pathname === '/sign-up' ? 'sign-up' : 'sign-in'} />;
  }
  if (!token) return <Redirect to={`/sign-in?next=${encodeURIComponent(pathname)}`} />;
  return <SignedIn pathname={pathname} />;
}

function Redirect({ to }: { to: string }) {
  useEffect(() => navigate(to, { replace: true }), [to]);
  return null;
}

function SignedIn({ pathname }: { pathname: string }) {
  const { viewer, viewerError } = useSession();
  if (viewerError) return <ErrorBox error={viewerError} title="Could not read your account" />;
  if (!viewer?.user) return <Loading what="your account" />;
  const memberships = viewer.user.memberships;

  if (pathname === '/' || pathname === '/orgs') {
    const first = memberships[0];
    return first ? <Redirect to={`/orgs/${first.organization.id}/prompts`} /> : <Frame organizationId={null}><NoOrganization /></Frame>;
  }
  for (const [pattern, screen] of ROUTES) {
    const params = matchPath(pattern, pathname);
    if (params) {
      // The :org segment decides the organization every screen works in.
      return (
        <Frame organizationId={params.org ?? null}>
          <Suspense fallback={<Loading what="the screen" />}>{screen(params)}</Suspense>
        </Frame>
      );
    }
  }
  return (
    <Frame organizationId={null}>
      <h1>Not found</h1>
      <p>
        No screen has the address <code>{pathname}</code>. <Link to="/">Go to the start</Link>.
      </p>
    </Frame>
  );
}

function NoOrganization() {
  return (
    <>
      <h1>No organization yet</h1>
      <p>You are not a member of any organization. Ask an admin to add your email, or create one through the API.</p>
    </>
  );
}

function Frame({ organizationId, children }: { organizationId: string | null; children: ReactNode }) {
  const { viewer, signOut, client } = useSession();
  const memberships = viewer?.user?.memberships ?? [];
  const current = memberships.find((m) => m.organization.id === organizationId);
  const base = organizationId ? `/orgs/${organizationId}` : null;
  const { pathname } = useLocation();
  const section = (to: string) => (pathname.startsWith(to) ? 'page' : undefined);

  const logOut = async () => {
    // The session ends on the server too; the console forgets it whatever the answer.
    await client.logOut().catch(() => undefined);
    signOut();
    navigate('/sign-in');
  };

  return (
    <div className="frame">
      <a className="skip" href="#main">
        Skip to content
      </a>
      <header className="topbar">
        <Link to="/" className="brand">
          PromptGate
        </Link>
        {memberships.length > 0 ? (
          <label className="org-switch">
            <span>Organization</span>
            <select
              value={organizationId ?? ''}
              onChange={(e) => navigate(`/orgs/${e.target.value}/prompts`)}
            >
              {!current ? <option value="">Choose…</option> : null}
              {memberships.map((m) => (
                <option key={m.organization.id} value={m.organization.id}>
                  {m.organization.name} ({m.role.toLowerCase()})
                </option>
              ))}
            </select>
          </label>
        ) : null}
        <span className="spacer" />
        <span className="who">{viewer?.user?.name}</span>
        <button type="button" onClick={() => void logOut()}>
          Sign out
        </button>
      </header>
      {base ? (
        <nav className="mainnav" aria-label="Sections">
          <Link to={`${base}/prompts`} aria-current={section(`${base}/prompts`) ?? section(`${base}/flows`)}>
            Prompts and flows
          </Link>
          <Link to={`${base}/keys`} aria-current={section(`${base}/keys`)}>
            API keys
          </Link>
          <Link to={`${base}/audit`} aria-current={section(`${base}/audit`)}>
            Audit log
          </Link>
          <Link to={`${base}/members`} aria-current={section(`${base}/members`)}>
            Members
          </Link>
        </nav>
      ) : null}
      <main id="main" tabIndex={-1}>
        {organizationId && !current ? (
          <ErrorBox error={new Error(`You are not a member of organization ${organizationId}.`)} title="Not found" />
        ) : (
          children
        )}
      </main>
    </div>
  );
}
