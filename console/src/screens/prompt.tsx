import type { Run } from '@promptgate/sdk';
import { useId, useState, type FormEvent } from 'react';
import { useAsync } from '../hooks.ts';
import { useClient } from '../session.tsx';
import { ErrorBox, Loading, PageHeader, TabLinks } from '../ui.tsx';
import { IntegrateTab } from './integrate.tsx';

export function PromptScreen({ organizationId, promptId, tab }: { organizationId: string; promptId: string; tab: 'overview' | 'integrate' }) {
  const client = useClient();
  const prompt = useAsync(() => client.prompt(promptId), [client, promptId]);
  if (prompt.loading && !prompt.data) return <Loading what="the prompt" />;
  if (prompt.error || !prompt.data) return <ErrorBox error={prompt.error ?? new Error('No such prompt')} title="Could not load the prompt" />;
  const p = prompt.data;
  const base = `/orgs/${organizationId}/prompts/${p.id}`;
  return (
    <>
      <PageHeader title={p.name} />
      {p.description ? <p>{p.description}</p> : null}
      <TabLinks
        label="Prompt"
        tabs={[
          { to: base, label: 'Overview' },
          { to: `${base}/integrate`, label: 'Integrate' },
        ]}
      />
      {tab === 'overview' ? (
        <>
          <section aria-labelledby="template-title">
            <h2 id="template-title">Template</h2>
            <p className="muted small">
              Model <code>{p.model}</code>
            </p>
            <pre tabIndex={0} aria-label="Template">
              <code>{p.template}</code>
            </pre>
            <h3>Variables</h3>
            {p.variables.length ? (
              <ul className="inline-list">
                {p.variables.map((v) => (
                  <li key={v}>
                    <code>{v}</code>
                  </li>
                ))}
              </ul>
            ) : (
              <p className="muted">This template has no variables.</p>
            )}
          </section>
          <TryIt variables={p.variables} run={(inputs) => client.runPrompt({ promptId: p.id, inputs })} />
        </>
      ) : (
        <IntegrateTab organizationId={organizationId} target={{ kind: 'prompt', id: p.id, name: p.name, variables: p.variables }} />
      )}
    </>
  );
}

/** Runs the prompt or flow as the signed-in user, with a value for each variable. */
export function TryIt({ variables, run }: { variables: string[]; run(inputs: Record<string, string>): Promise<Run> }) {
  const [inputs, setInputs] = useState<Record<string, string>>({});
  const [result, setResult] = useState<Run | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const id = useId();
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      setResult(await run(inputs));
    } catch (e) {
      setError(e);
      setResult(null);
    } finally {
      setBusy(false);
    }
  };
  return (
    <section aria-labelledby={`${id}-title`}>
      <h2 id={`${id}-title`}>Try it</h2>
      <form onSubmit={(e) => void submit(e)} className="stack">
        {variables.map((v) => (
          <div key={v} className="field">
            <label htmlFor={`${id}-${v}`}>{v}</label>
            <textarea id={`${id}-${v}`} rows={2} value={inputs[v] ?? ''} onChange={(e) => setInputs({ ...inputs, [v]: e.target.value })} />
          </div>
        ))}
        <div>
          <button type="submit" className="primary" disabled={busy}>
            {busy ? 'Running…' : 'Run'}
          </button>
        </div>
      </form>
      <ErrorBox error={error} title="The run was refused" />
      {result ? (
        <div className="run-result" role="status">
          <p>
            <strong>{result.status}</strong> in {result.durationMs ?? '—'} ms
            {result.promptTokens + result.completionTokens ? ` · ${result.promptTokens + result.completionTokens} tokens` : ''}
          </p>
          {result.error ? <p className="error-text">{result.error}</p> : null}
          {result.result !== null ? (
            <pre tabIndex={0} aria-label="Result">
              <code>{result.result}</code>
            </pre>
          ) : null}
        </div>
      ) : null}
    </section>
  );
}
