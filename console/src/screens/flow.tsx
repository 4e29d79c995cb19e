import { useAsync } from '../hooks.ts';
import { Link } from '../router.tsx';
import { useClient } from '../session.tsx';
import { ErrorBox, Loading, PageHeader, TabLinks } from '../ui.tsx';
import { IntegrateTab } from './integrate.tsx';
import { TryIt } from './prompt.tsx';

export function FlowScreen({ organizationId, flowId, tab }: { organizationId: string; flowId: string; tab: 'overview' | 'integrate' }) {
  const client = useClient();
  const flow = useAsync(() => client.flow(flowId), [client, flowId]);
  if (flow.loading && !flow.data) return <Loading what="the flow" />;
  if (flow.error || !flow.data) return <ErrorBox error={flow.error ?? new Error('No such flow')} title="Could not load the flow" />;
  const f = flow.data;
  const base = `/orgs/${organizationId}/flows/${f.id}`;
  return (
    <>
      <PageHeader title={f.name} />
      {f.description ? <p>{f.description}</p> : null}
      <TabLinks
        label="Flow"
        tabs={[
          { to: base, label: 'Overview' },
          { to: `${base}/integrate`, label: 'Integrate' },
        ]}
      />
      {tab === 'overview' ? (
        <>
          <section aria-labelledby="steps-title">
            <h2 id="steps-title">Steps</h2>
            <p className="muted small">Each step after the first receives the previous step's result as its first variable.</p>
            <ol className="list">
              {f.steps.map((s) => (
                <li key={s.position}>
                  <Link to={`/orgs/${organizationId}/prompts/${s.prompt.id}`}>{s.prompt.name}</Link>
                </li>
              ))}
            </ol>
          </section>
          <TryIt variables={f.variables} run={(inputs) => client.runFlow({ flowId: f.id, inputs })} />
        </>
      ) : (
        <IntegrateTab organizationId={organizationId} target={{ kind: 'flow', id: f.id, name: f.name, variables: f.variables }} />
      )}
    </>
  );
}
