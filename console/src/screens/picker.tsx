import type { Flow, Prompt } from '@promptgate/sdk';
import { useId, useState } from 'react';
import { useDebounced, useServerSearchList } from '../hooks.ts';
import { useClient } from '../session.tsx';
import { ResourceList } from './prompts.tsx';

/** The prompts and flows granted to a SPECIFIC key: ids with what the screen shows of them. */
export interface Selection {
  prompts: Record<string, string>;
  flows: Record<string, { name: string; covers: string[] }>;
}

export const emptySelection = (): Selection => ({ prompts: {}, flows: {} });

/**
 * A searchable, paged picker of prompts and flows. The server searches and pages, so an
 * organization with thousands of prompts costs a page at a time.
 */
export function ResourcePicker({ organizationId, value, onChange }: { organizationId: string; value: Selection; onChange(next: Selection): void }) {
  const client = useClient();
  const [kind, setKind] = useState<'prompts' | 'flows'>('prompts');
  const [search, setSearch] = useState('');
  const query = useDebounced(search);
  const id = useId();
  const prompts = useServerSearchList<Prompt>((page) => client.prompts(organizationId, page), kind === 'prompts' ? query : '', [client, organizationId]);
  const flows = useServerSearchList<Flow>((page) => client.flows(organizationId, page), kind === 'flows' ? query : '', [client, organizationId]);

  const togglePrompt = (p: Prompt) => {
    const prompts = { ...value.prompts };
    if (prompts[p.id]) delete prompts[p.id];
    else prompts[p.id] = p.name;
    onChange({ ...value, prompts });
  };
  const toggleFlow = (f: Flow) => {
    const flows = { ...value.flows };
    if (flows[f.id]) delete flows[f.id];
    else flows[f.id] = { name: f.name, covers: f.steps.map((s) => s.prompt.name) };
    onChange({ ...value, flows });
  };

  const chosenPrompts = Object.entries(value.prompts);
  const chosenFlows = Object.entries(value.flows);
  return (
    <fieldset className="picker">
      <legend>Prompts and flows this key may run</legend>
      <div className="chosen" aria-live="polite">
        {chosenPrompts.length + chosenFlows.length === 0 ? (
          <p className="muted">Nothing chosen yet: the key could run nothing.</p>
        ) : (
          <ul className="chips" aria-label="Chosen">
            {chosenPrompts.map(([pid, name]) => (
              <li key={pid}>
                Prompt <strong>{name}</strong>
                <button type="button" aria-label={`Remove prompt ${name}`} onClick={() => onChange({ ...value, prompts: omit(value.prompts, pid) })}>
                  ×
                </button>
              </li>
            ))}
            {chosenFlows.map(([fid, f]) => (
              <li key={fid}>
                Flow <strong>{f.name}</strong>{' '}
                <span className="muted small">(covers {f.covers.length ? f.covers.join(', ') : 'no prompt'})</span>
                <button type="button" aria-label={`Remove flow ${f.name}`} onClick={() => onChange({ ...value, flows: omit(value.flows, fid) })}>
                  ×
                </button>
              </li>
            ))}
          </ul>
        )}
      </div>
      <div role="group" aria-label="Show" className="row">
        <button type="button" aria-pressed={kind === 'prompts'} onClick={() => setKind('prompts')}>
          Prompts
        </button>
        <button type="button" aria-pressed={kind === 'flows'} onClick={() => setKind('flows')}>
          Flows
        </button>
      </div>
      <div className="search">
        <label htmlFor={`${id}-search`}>Search {kind}</label>
        <input id={`${id}-search`} type="search" value={search} onChange={(e) => setSearch(e.target.value)} autoComplete="off" />
      </div>
      <div className="picker-list">
        {kind === 'prompts' ? (
          <ResourceList
            list={prompts}
            what="prompts"
            query={query}
            render={(p) => (
              <label className="check">
                <input type="checkbox" checked={Boolean(value.prompts[p.id])} onChange={() => togglePrompt(p)} /> {p.name}
              </label>
            )}
          />
        ) : (
          <ResourceList
            list={flows}
            what="flows"
            query={query}
            render={(f) => (
              <label className="check">
                <input type="checkbox" checked={Boolean(value.flows[f.id])} onChange={() => toggleFlow(f)} /> {f.name}{' '}
                <span className="muted small">covers {f.steps.map((s) => s.prompt.name).join(', ')}</span>
              </label>
            )}
          />
        )}
      </div>
    </fieldset>
  );
}

function omit<T>(record: Record<string, T>, key: string): Record<string, T> {
  const copy = { ...record };
  delete copy[key];
  return copy;
}
