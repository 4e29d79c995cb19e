import type { ApiKey } from '@promptgate/sdk';
import { useState } from 'react';
import { useDebounced, useServerSearchList } from '../hooks.ts';
import { Link } from '../router.tsx';
import { GRAPHQL_URL, useClient } from '../session.tsx';
import { CopyButton, SearchBox } from '../ui.tsx';
import { ResourceList } from './prompts.tsx';

type Target = { kind: 'prompt'; id: string; name: string; variables: string[] } | { kind: 'flow'; id: string; name: string; variables: string[] };

/**
 * The Integrate tab: exactly the keys that may run this prompt or flow (availableApiKeys, the
 * server's one access rule), each with snippets that use its prefix.
 */
export function IntegrateTab({ organizationId, target }: { organizationId: string; target: Target }) {
  const client = useClient();
  const [search, setSearch] = useState('');
  const query = useDebounced(search);
  const resource = target.kind === 'prompt' ? { promptId: target.id } : { flowId: target.id };
  const list = useServerSearchList<ApiKey>((page) => client.availableApiKeysPage(resource, page), query, [client, target.id]);
  const [open, setOpen] = useState<string | null>(null);

  return (
    <section aria-labelledby="integrate-title">
      <h2 id="integrate-title">Keys that may run this {target.kind}</h2>
      <p className="note">
        Keys without permission to run this {target.kind} are not listed (nor revoked or expired ones).{' '}
        <Link to={`/orgs/${organizationId}/keys`}>Manage API keys and their permissions</Link>.
      </p>
      <SearchBox label="Search keys by name" value={search} onChange={setSearch} />
      <ResourceList
        list={list}
        what="keys"
        query={query}
        empty={`No active key may run this ${target.kind} yet.`}
        render={(key) => (
          <div className="key-row" data-testid="available-key">
            <div>
              <strong>{key.name}</strong> <code>{key.prefix}…</code>{' '}
              <span className="muted small">{key.access === 'ORGANIZATION' ? 'organization-wide' : 'granted'}</span>
            </div>
            <button type="button" aria-expanded={open === key.id} onClick={() => setOpen(open === key.id ? null : key.id)}>
              {open === key.id ? 'Hide snippets' : 'Show snippets'}
              <span className="visually-hidden"> for {key.name}</span>
            </button>
            {open === key.id ? <Snippets target={target} apiKey={key} /> : null}
          </div>
        )}
      />
    </section>
  );
}

function exampleInputs(variables: string[]): Record<string, string> {
  return Object.fromEntries(variables.map((v) => [v, `…${v}…`]));
}

function Snippets({ target, apiKey }: { target: Target; apiKey: ApiKey }) {
  const [tab, setTab] = useState<'curl' | 'sdk'>('curl');
  const secret = `${apiKey.prefix}…`;
  const inputs = exampleInputs(target.variables);
  const field = target.kind === 'prompt' ? 'runPrompt' : 'runFlow';
  const idField = target.kind === 'prompt' ? 'promptId' : 'flowId';
  const inputType = target.kind === 'prompt' ? 'RunPromptInput' : 'RunFlowInput';
  const body = JSON.stringify({
    query: `mutation Run($input: ${inputType}!) { ${field}(input: $input) { status result error } }`,
    variables: { input: { [idField]: target.id, inputs } },
  });
  const curl = [`curl ${GRAPHQL_URL} \\`, `  -H 'Authorization: Bearer ${secret}' \\`, `  -H 'Content-Type: application/json' \\`, `  -d '${body}'`].join('\n');
  const sdk = [
    `import { createClient } from '@promptgate/sdk';`,
    ``,
    `// The key "${apiKey.name}": its whole secret starts with ${apiKey.prefix} (shown once, when it was created).`,
    `const client = createClient({ url: '${GRAPHQL_URL}', apiKey: process.env.PROMPTGATE_API_KEY });`,
    `const run = await client.${field}({ ${idField}: '${target.id}', inputs: ${JSON.stringify(inputs)} });`,
    `console.log(run.status, run.result);`,
  ].join('\n');
  const text = tab === 'curl' ? curl : sdk;
  return (
    <div className="snippets">
      <div role="group" aria-label="Snippet language" className="row">
        <button type="button" aria-pressed={tab === 'curl'} onClick={() => setTab('curl')}>
          curl
        </button>
        <button type="button" aria-pressed={tab === 'sdk'} onClick={() => setTab('sdk')}>
          TypeScript SDK
        </button>
        <CopyButton text={text} label="Copy snippet" />
      </div>
      <pre tabIndex={0} aria-label={`${tab === 'curl' ? 'curl' : 'SDK'} snippet for ${apiKey.name}`}>
        <code>{text}</code>
      </pre>
      <p className="muted small">Replace <code>{secret}</code> with the key's whole secret.</p>
    </div>
  );
}
