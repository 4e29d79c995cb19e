import { useId, useState, type FormEvent } from 'react';
import { Link, navigate, useLocation } from '../router.tsx';
import { useAsync } from '../hooks.ts';
import { useSession } from '../session.tsx';
import { ErrorBox } from '../ui.tsx';

export function SignInScreen({ mode }: { mode: 'sign-in' | 'sign-up' }) {
  const { client, signIn } = useSession();
  const { search } = useLocation();
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [name, setName] = useState('');
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const ids = { email: useId(), password: useId(), name: useId() };
  const signingUp = mode === 'sign-up';
  // The server answers the demo account only while it still signs in on a fresh embedded database.
  const demo = useAsync(() => client.demoSignIn(), [client]).data ?? null;

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const payload = signingUp ? await client.signUp({ email, password, name }) : await client.logIn({ email, password });
      signIn(payload.token);
      const next = search.get('next');
      navigate(next && next.startsWith('/') && !next.startsWith('//') ? next : '/', { replace: true });
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };

  return (
    <main id="main" className="auth">
      <h1>PromptGate</h1>
      <form onSubmit={(e) => void submit(e)} className="card">
        <h2>{signingUp ? 'Create an account' : 'Sign in'}</h2>
        {signingUp ? (
          <>
            <label htmlFor={ids.name}>Name</label>
            <input id={ids.name} value={name} onChange={(e) => setName(e.target.value)} required autoComplete="name" />
          </>
        ) : null}
        <label htmlFor={ids.email}>Email</label>
        <input id={ids.email} type="email" value={email} onChange={(e) => setEmail(e.target.value)} required autoComplete="email" />
        <label htmlFor={ids.password}>Password</label>
        <input
          id={ids.password}
          type="password"
          value={password}
          onChange={(e) => setPassword(e.target.value)}
          required
          minLength={signingUp ? 10 : undefined}
          autoComplete={signingUp ? 'new-password' : 'current-password'}
        />
        {signingUp ? <p className="muted small">At least 10 characters.</p> : null}
        <ErrorBox error={error} title={signingUp ? 'Could not create the account' : 'Could not sign in'} />
        <button type="submit" className="primary" disabled={busy}>
          {busy ? 'Please wait…' : signingUp ? 'Create account' : 'Sign in'}
        </button>
        <p>
          {signingUp ? (
            <>
              Have an account? <Link to="/sign-in">Sign in</Link>
            </>
          ) : (
            <>
              New here? <Link to="/sign-up">Create an account</Link>
            </>
          )}
        </p>
      </form>
      {!signingUp && demo ? (
        <aside className="card demo" aria-labelledby="demo-title">
          <h2 id="demo-title">Trying PromptGate?</h2>
          <p>
            A new embedded database is seeded with a demo organization. Its owner signs in as <code>{demo.email}</code> with the
            password <code>{demo.password}</code> (public: change it for real use).
          </p>
          <button
            type="button"
            onClick={() => {
              setEmail(demo.email);
              setPassword(demo.password);
            }}
          >
            Fill in the demo account
          </button>
        </aside>
      ) : null}
    </main>
  );
}
