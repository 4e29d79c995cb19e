import type { Flow, Prompt } from '@promptgate/sdk';
import { useState } from 'react';
import { useDebounced, useServerSearchList, type SearchList } from '../hooks.ts';
import { Link } from '../router.tsx';
import { useClient } from '../session.tsx';
import { Empty, ErrorBox, Loading, PageHeader, SearchBox } from '../ui.tsx';

/** The organization's prompts and flows, each list searchable. */
export function PromptsScreen({ organizationId }: { organizationId: string }) {
  const client = useClient();
  const [search, setSearch] = useState('');
  const query = useDebounced(search);
  const prompts = useServerSearchList<Prompt>((page) => client.prompts(organizationId, page), query, [client, organizationId]);
  const flows = useServerSearchList<Flow>((page) => client.flows(organizationId, page), query, [client, organizationId]);

  return (
    <>
      <PageHeader title="Prompts and flows" />
      <SearchBox label="Search prompts and flows by name" value={search} onChange={setSearch} />
      <div className="two-columns">
        <section aria-labelledby="prompts-title">
          <h2 id="prompts-title">Prompts</h2>
          <ResourceList
            list={prompts}
            what="prompts"
            query={query}
            render={(p) => (
              <>
                <Link to={`/orgs/${organizationId}/prompts/${p.id}`}>{p.name}</Link>
                <span className="muted small"> {p.variables.length ? `{{${p.variables.join('}}, {{')}}}` : 'no variables'} · {p.model}</span>
                {p.description ? <p className="small">{p.description}</p> : null}
              </>
            )}
          />
        </section>
        <section aria-labelledby="flows-title">
          <h2 id="flows-title">Flows</h2>
          <ResourceList
            list={flows}
            what="flows"
            query={query}
            render={(f) => (
              <>
                <Link to={`/orgs/${organizationId}/flows/${f.id}`}>{f.name}</Link>
                <span className="muted small"> {f.steps.map((s) => s.prompt.name).join(' → ')}</span>
                {f.description ? <p className="small">{f.description}</p> : null}
              </>
            )}
          />
        </section>
      </div>
    </>
  );
}

export function ResourceList<T extends { id: string }>({
  list,
  what,
  query,
  render,
  empty,
}: {
  list: SearchList<T>;
  what: string;
  query: string;
  render(item: T): React.ReactNode;
  /** What an empty list (with no search) means here. */
  empty?: string;
}) {
  return (
    <>
      <ErrorBox error={list.error} title={`Could not load the ${what}`} />
      <p className="muted small" aria-live="polite">
        {list.totalCount === null
          ? ''
          : query
            ? `${list.items.length} of ${list.totalCount} ${what} matching “${query}”`
            : `${list.items.length} of ${list.totalCount} ${what}`}
      </p>
      {list.items.length ? (
        <ul className="list">
          {list.items.map((item) => (
            <li key={item.id}>{render(item)}</li>
          ))}
        </ul>
      ) : !list.loading && !list.error ? (
        <Empty>{query ? `No ${what} match “${query}”.` : (empty ?? `No ${what} yet.`)}</Empty>
      ) : null}
      {list.loading ? <Loading what={what} /> : null}
      {list.hasMore && !list.loading ? (
        <button type="button" onClick={list.loadMore}>
          {query ? `More matching ${what}` : `More ${what}`}
        </button>
      ) : null}
    </>
  );
}
