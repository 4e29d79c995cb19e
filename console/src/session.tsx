/**
 * The signed-in session: its token (kept in localStorage), a client of @promptgate/sdk made with
 * it, and the viewer's organizations. The console talks to the server only through this client.
 */
import { createClient, type PromptGateClient, type Viewer } from '@promptgate/sdk';
import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from 'react';

const TOKEN_KEY = 'promptgate.session';
export const GRAPHQL_URL = new URL('/graphql', location.origin).toString();

export type Role = 'OWNER' | 'ADMIN' | 'MEMBER';

export interface SessionValue {
  token: string | null;
  client: PromptGateClient;
  /** Who is signed in, with memberships; null before it is known or when signed out. */
  viewer: Viewer | null;
  viewerError: unknown;
  signIn(token: string): void;
  signOut(): void;
  /** Reads the viewer again (after creating an organization, for example). */
  refreshViewer(): void;
}

const SessionContext = createContext<SessionValue | null>(null);

export function SessionProvider({ children }: { children: ReactNode }) {
  const [token, setToken] = useState<string | null>(() => localStorage.getItem(TOKEN_KEY));
  const [viewer, setViewer] = useState<Viewer | null>(null);
  const [viewerError, setViewerError] = useState<unknown>(null);
  const [generation, setGeneration] = useState(0);
  const client = useMemo(() => createClient(token ? { url: GRAPHQL_URL, token } : { url: GRAPHQL_URL }), [token]);

  const signIn = useCallback((next: string) => {
    localStorage.setItem(TOKEN_KEY, next);
    setViewer(null);
    setToken(next);
  }, []);
  const signOut = useCallback(() => {
    localStorage.removeItem(TOKEN_KEY);
    setViewer(null);
    setToken(null);
  }, []);

  useEffect(() => {
    if (!token) return;
    let live = true;
    setViewerError(null);
    client.viewer().then(
      (v) => {
        if (!live) return;
        // A token the server no longer knows (expired, logged out elsewhere) answers no user.
        if (!v.user) signOut();
        else setViewer(v);
      },
      (error: unknown) => {
        if (!live) return;
        if ((error as { code?: string }).code === 'UNAUTHENTICATED') signOut();
        else setViewerError(error);
      },
    );
    return () => {
      live = false;
    };
  }, [client, token, generation, signOut]);

  const value = useMemo<SessionValue>(
    () => ({ token, client, viewer, viewerError, signIn, signOut, refreshViewer: () => setGeneration((g) => g + 1) }),
    [token, client, viewer, viewerError, signIn, signOut],
  );
  return <SessionContext.Provider value={value}>{children}</SessionContext.Provider>;
}

export function useSession(): SessionValue {
  const value = useContext(SessionContext);
  if (!value) throw new Error('useSession outside SessionProvider');
  return value;
}

export function useClient(): PromptGateClient {
  return useSession().client;
}

/** The caller's role in an organization, from the viewer's memberships. */
export function useRole(organizationId: string): Role | null {
  const { viewer } = useSession();
  const membership = viewer?.user?.memberships.find((m) => m.organization.id === organizationId);
  return (membership?.role as Role | undefined) ?? null;
}

export const canManageKeys = (role: Role | null) => role === 'OWNER' || role === 'ADMIN';
export const KEYS_REASON = 'Only admins and owners manage API keys.';
