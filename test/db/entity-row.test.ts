/**
 * entityRow (server/db/entity-row.ts) maps an entity to the columns a prepared insert binds, from
 * the ORM's metadata, and refuses a column list that does not name exactly the entity's columns.
 */
import { entityRow } from '../../server/db/entity-row.ts';
import { RunStepSchema, type RunStep } from '../../server/modules/run/run.entity.ts';
import { expect, test } from '../kit.ts';

const STEP_COLUMNS = ['id', 'run_id', 'position', 'prompt_id', 'status', 'result', 'error', 'duration_ms', 'prompt_tokens', 'completion_tokens'] as const;
const step = { id: 'stp_1', run: 'run_1', position: 1, prompt: 'prm_1', status: 'SUCCEEDED', result: 'ok', promptTokens: 3, completionTokens: 4 } as RunStep;

test('maps each property to its column, absent values as null', ({ h }) => {
  expect(entityRow(h.orm.em, RunStepSchema, STEP_COLUMNS, step)).toEqual({
    id: 'stp_1',
    run_id: 'run_1',
    position: 1,
    prompt_id: 'prm_1',
    status: 'SUCCEEDED',
    result: 'ok',
    error: null,
    duration_ms: null,
    prompt_tokens: 3,
    completion_tokens: 4,
  });
});

test('refuses a column list that leaves out a column of the entity, or names one it does not have', ({ h }) => {
  const withoutError = STEP_COLUMNS.filter((column) => column !== 'error');
  expect(() => entityRow(h.orm.em, RunStepSchema, withoutError, step)).toThrow('missing error');
  expect(() => entityRow(h.orm.em, RunStepSchema, [...STEP_COLUMNS, 'colour'], step)).toThrow('unknown colour');
});
