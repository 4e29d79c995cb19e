/** Small building blocks shared by the screens: states, dialogs, copying, dates. */
import { PromptGateError } from '@promptgate/sdk';
import { useEffect, useId, useRef, useState, type ReactNode } from 'react';
import { Link, useLocation } from './router.tsx';

export function Loading({ what }: { what: string }) {
  return (
    <p className="muted" role="status" aria-live="polite">
      Loading {what}…
    </p>
  );
}

export function Empty({ children }: { children: ReactNode }) {
  return <p className="empty">{children}</p>;
}

/** A failure as the server gave it: its code and message. */
export function ErrorBox({ error, title = 'Something went wrong' }: { error: unknown; title?: string }) {
  if (!error) return null;
  const code = error instanceof PromptGateError ? error.code : undefined;
  const message = error instanceof Error ? error.message : String(error);
  return (
    <div className="error" role="alert">
      <strong>{title}</strong>
      <p>
        {code ? <code className="code">{code}</code> : null} {message}
      </p>
    </div>
  );
}

export function PageHeader({ title, children }: { title: string; children?: ReactNode }) {
  useEffect(() => {
    document.title = `${title} · PromptGate`;
  }, [title]);
  return (
    <div className="page-header">
      <h1>{title}</h1>
      {children ? <div className="actions">{children}</div> : null}
    </div>
  );
}

/** Tabs that are links, so each tab has its own URL. */
export function TabLinks({ tabs, label }: { tabs: { to: string; label: string }[]; label: string }) {
  const { pathname } = useLocation();
  return (
    <nav className="tabs" aria-label={label}>
      {tabs.map((tab) => (
        <Link key={tab.to} to={tab.to} aria-current={pathname === tab.to ? 'page' : undefined}>
          {tab.label}
        </Link>
      ))}
    </nav>
  );
}

export function SearchBox({ value, onChange, label }: { value: string; onChange(value: string): void; label: string }) {
  const id = useId();
  return (
    <div className="search">
      <label htmlFor={id}>{label}</label>
      <input id={id} type="search" value={value} onChange={(e) => onChange(e.target.value)} autoComplete="off" />
    </div>
  );
}

export function CopyButton({ text, label = 'Copy' }: { text: string; label?: string }) {
  const [copied, setCopied] = useState<'yes' | 'failed' | null>(null);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(text);
      setCopied('yes');
    } catch {
      setCopied('failed');
    }
  };
  return (
    <>
      <button type="button" onClick={() => void copy()}>
        {label}
      </button>
      <span role="status" className="muted small">
        {copied === 'yes' ? 'Copied.' : copied === 'failed' ? 'Copying is blocked here: select the text and copy it.' : ''}
      </span>
    </>
  );
}

/** A secret the server answers once: shown with a copy button and a clear warning. */
export function SecretReveal({ secret, keyName }: { secret: string; keyName: string }) {
  const id = useId();
  return (
    <section className="secret" aria-labelledby={`${id}-title`}>
      <h2 id={`${id}-title`}>The secret of “{keyName}”</h2>
      <p className="warning" role="note">
        Copy it now: this is the only time it is shown. PromptGate keeps only its hash and cannot show it again.
      </p>
      <label htmlFor={id}>Secret</label>
      <div className="row">
        <input id={id} className="mono" readOnly value={secret} onFocus={(e) => e.target.select()} data-testid="secret" />
        <CopyButton text={secret} label="Copy secret" />
      </div>
    </section>
  );
}

/** A modal dialog (the browser's own <dialog>: focus kept inside, Escape closes it). */
export function Dialog({ title, open, onClose, children }: { title: string; open: boolean; onClose(): void; children: ReactNode }) {
  const ref = useRef<HTMLDialogElement>(null);
  const id = useId();
  useEffect(() => {
    const dialog = ref.current;
    if (!dialog) return;
    if (open && !dialog.open) dialog.showModal();
    if (!open && dialog.open) dialog.close();
  }, [open]);
  return (
    <dialog ref={ref} aria-labelledby={id} onClose={onClose}>
      <h2 id={id}>{title}</h2>
      {open ? children : null}
    </dialog>
  );
}

export function formatDate(value: string | null | undefined, empty = '—'): string {
  if (!value) return empty;
  return new Date(value).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
}

export function StatusBadge({ status }: { status: string }) {
  return <span className={`badge badge-${status.toLowerCase()}`}>{status.toLowerCase()}</span>;
}
