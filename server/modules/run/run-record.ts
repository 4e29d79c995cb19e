import type { EntityManager } from '@mikro-orm/core';
import { isPostgres } from '../../db/dialect.ts';
import { entityRow } from '../../db/entity-row.ts';
import { preparedDb, statement, type Write } from '../../db/prepared.ts';
import { readOnlyEntities } from '../../db/read-only.ts';
import { RunSchema, RunStepSchema, type Run, type RunStep } from './run.entity.ts';
import { rememberWrittenSteps } from './run.loaders.ts';

/**
 * How a run reaches the database (DESIGN.md rule 7). The run service keeps the run and its steps
 * as plain records while it executes them and tells a recorder at each phase:
 *
 * - every model answers in this process (echo): nothing is written until the run has ended, then
 *   the run and its steps in ONE transaction through statements prepared once (db/prepared.ts),
 *   with no read-back: the entity the request answers with is mapped from the row written. Nothing
 *   can crash between such a run's start and end worth recording.
 * - a model behind the network: written through the ORM, RUNNING before each model call (the run
 *   with its first step, then each step done with the next begun), so a crash during a call leaves
 *   a row the deadline sweep ends FAILED; then the outcome.
 */
export interface RunRecorder {
  /** The last of `steps` is about to call its model. */
  stepStarting(run: Run, steps: readonly RunStep[]): Promise<void>;
  /** The run has ended (SUCCEEDED or FAILED): writes it as it is now; the entity the request answers with. */
  finished(run: Run, steps: readonly RunStep[]): Promise<Run>;
  /** A failure of our own (the database): ends FAILED whatever was written RUNNING. */
  failed(run: Run, error: string): Promise<void>;
}

export function recorderFor(em: EntityManager, answersInProcess: boolean): RunRecorder {
  return answersInProcess ? new FinishedRunRecorder(em) : new PhasedRunRecorder(em);
}

// --- in-process models: one transaction of prepared inserts once the run has ended ---------------

/** The runs columns in the order the insert binds them (every column of the entity: entityRow checks). */
const RUN_COLUMNS = [
  'id', 'organization_id', 'kind', 'status', 'prompt_id', 'flow_id', 'api_key_id', 'user_id', 'inputs', 'result', 'error', 'end_user_id',
  'started_at', 'finished_at', 'duration_ms', 'deadline_at', 'prompt_tokens', 'completion_tokens', 'rating', 'access_via', 'granted_by',
] as const;
type RunRow = Record<(typeof RUN_COLUMNS)[number], unknown>;

const STEP_COLUMNS = ['id', 'run_id', 'position', 'prompt_id', 'status', 'result', 'error', 'duration_ms', 'prompt_tokens', 'completion_tokens'] as const;
/** The run_steps columns but run_id, with their PostgreSQL types, for the array parameters of INSERT_RUN_WITH_STEPS. */
const STEP_ARRAY_TYPES: Record<Exclude<(typeof STEP_COLUMNS)[number], 'run_id'>, string> = {
  id: 'varchar',
  position: 'int',
  prompt_id: 'varchar',
  status: 'text',
  result: 'text',
  error: 'text',
  duration_ms: 'int',
  prompt_tokens: 'int',
  completion_tokens: 'int',
};
const STEP_ARRAY_COLUMNS = Object.keys(STEP_ARRAY_TYPES) as (keyof typeof STEP_ARRAY_TYPES)[];

const INSERT_RUN = statement('insert_run', `insert into runs (${RUN_COLUMNS.join(', ')}) values (${RUN_COLUMNS.map(() => '?').join(', ')})`);
const INSERT_RUN_STEP = statement('insert_run_step', `insert into run_steps (${STEP_COLUMNS.join(', ')}) values (${STEP_COLUMNS.map(() => '?').join(', ')})`);

/**
 * PostgreSQL: the run and all its steps in one statement, so one round trip and one implicit
 * transaction; the steps come as one array per column (unnest), so the text is the same for a
 * prompt's one step and a flow's ten and is parsed once per connection. (SQLite has no
 * data-modifying CTE: there the two inserts run in a synchronous transaction, as cheap.)
 */
const INSERT_RUN_WITH_STEPS_SQL = `with r as (insert into runs (${RUN_COLUMNS.join(', ')}) values (${RUN_COLUMNS.map(() => '?').join(', ')}) returning id)
  insert into run_steps (${STEP_COLUMNS.join(', ')})
  select s.id, r.id, ${STEP_ARRAY_COLUMNS.filter((c) => c !== 'id').map((c) => `s.${c}`).join(', ')}
  from r cross join unnest(${STEP_ARRAY_COLUMNS.map((c) => `cast(? as ${STEP_ARRAY_TYPES[c]}[])`).join(', ')}) as s(${STEP_ARRAY_COLUMNS.join(', ')})`;
const INSERT_RUN_WITH_STEPS = statement('insert_run_with_steps', { sqlite: '-- PostgreSQL only', postgresql: INSERT_RUN_WITH_STEPS_SQL });

/** The row as parameters: JSON as text (both stores keep it so), dates bound by the prepared runner. */
function runParams(row: RunRow): unknown[] {
  return RUN_COLUMNS.map((column) => (column === 'inputs' ? JSON.stringify(row.inputs) : row[column]));
}

type StepRow = Record<(typeof STEP_COLUMNS)[number], unknown>;

function finishedRunWrites(postgres: boolean, row: RunRow, stepRows: readonly StepRow[]): Write[] {
  if (postgres) {
    const arrays = STEP_ARRAY_COLUMNS.map((column) => stepRows.map((step) => step[column]));
    return [{ statement: INSERT_RUN_WITH_STEPS, params: [...runParams(row), ...arrays] }];
  }
  return [
    { statement: INSERT_RUN, params: runParams(row) },
    ...stepRows.map((step) => ({ statement: INSERT_RUN_STEP, params: STEP_COLUMNS.map((column) => step[column]) })),
  ];
}

class FinishedRunRecorder implements RunRecorder {
  constructor(private readonly em: EntityManager) {}

  async stepStarting(): Promise<void> {}

  async finished(run: Run, steps: readonly RunStep[]): Promise<Run> {
    const row: RunRow = entityRow(this.em, RunSchema, RUN_COLUMNS, run);
    const stepRows: StepRow[] = steps.map((step) => entityRow(this.em, RunStepSchema, STEP_COLUMNS, step));
    await (await preparedDb(this.em)).transaction(finishedRunWrites(isPostgres(this.em), row, stepRows));
    // The answer's `steps` come from what was written (run.loaders.ts), not read back.
    rememberWrittenSteps(this.em, run.id, stepRows);
    // As if read back, as a read-only object (db/read-only.ts): the run's fields only read it, and
    // it is committed, so a read of it by id finds it. (em.map's managed entity cost ~100 µs.)
    return readOnlyEntities(this.em, RunSchema, [row as Record<string, unknown>])[0]!;
  }

  // Nothing was written: the one transaction either committed or left nothing behind.
  async failed(): Promise<void> {}
}

// --- models behind the network: the ORM, phase by phase -------------------------------------------

class PhasedRunRecorder implements RunRecorder {
  private run?: Run;
  private readonly steps: RunStep[] = [];

  constructor(private readonly em: EntityManager) {}

  async stepStarting(run: Run, steps: readonly RunStep[]): Promise<void> {
    this.track(run, steps);
    await this.em.flush();
  }

  async finished(run: Run, steps: readonly RunStep[]): Promise<Run> {
    this.track(run, steps);
    await this.em.flush();
    return this.run!;
  }

  async failed(run: Run, error: string): Promise<void> {
    const failure = { status: 'FAILED' as const, error };
    await this.em.nativeUpdate(RunStepSchema, { run: run.id, status: 'RUNNING' }, failure);
    await this.em.nativeUpdate(RunSchema, { id: run.id }, { ...failure, finishedAt: new Date() });
  }

  /** The records' current values onto their entities (new ones created), for the next flush. */
  private track(run: Run, steps: readonly RunStep[]): void {
    if (this.run) Object.assign(this.run, run);
    else this.run = this.em.create(RunSchema, { ...run });
    steps.forEach((step, index) => {
      const entity = this.steps[index];
      if (entity) Object.assign(entity, step);
      else this.steps[index] = this.em.create(RunStepSchema, { ...step });
    });
  }
}
