import type { EntityManager } from '@mikro-orm/core';
import { isPostgres } from '../../db/dialect.ts';
import { entityRow } from '../../db/entity-row.ts';
import { GroupCommit } from '../../db/group-commit.ts';
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
 *   can crash between such a run's start and end worth recording. Concurrent runs share commits:
 *   those of one event-loop turn on SQLite, those that finish while an insert is in flight on
 *   PostgreSQL (one statement for them all).
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

/**
 * The runs columns, in the order the inserts bind them (every column of the entity: entityRow
 * checks), with their PostgreSQL types for the array parameters of INSERT_RUNS_WITH_STEPS.
 */
const RUN_COLUMN_TYPES = {
  id: 'varchar', organization_id: 'varchar', kind: 'text', status: 'text', prompt_id: 'varchar', flow_id: 'varchar', api_key_id: 'varchar',
  user_id: 'varchar', inputs: 'jsonb', result: 'text', error: 'text', end_user_id: 'varchar', started_at: 'timestamptz', finished_at: 'timestamptz',
  duration_ms: 'int', deadline_at: 'timestamptz', prompt_tokens: 'int', completion_tokens: 'int', rating: 'int', access_via: 'varchar', granted_by: 'varchar',
} as const;
const RUN_COLUMNS = Object.keys(RUN_COLUMN_TYPES) as (keyof typeof RUN_COLUMN_TYPES)[];
type RunRow = Record<(typeof RUN_COLUMNS)[number], unknown>;

/** The run_steps columns likewise. */
const STEP_COLUMN_TYPES = {
  id: 'varchar', run_id: 'varchar', position: 'int', prompt_id: 'varchar', status: 'text', result: 'text', error: 'text', duration_ms: 'int',
  prompt_tokens: 'int', completion_tokens: 'int',
} as const;
const STEP_COLUMNS = Object.keys(STEP_COLUMN_TYPES) as (keyof typeof STEP_COLUMN_TYPES)[];
type StepRow = Record<(typeof STEP_COLUMNS)[number], unknown>;

/** One finished run as rows: what one insert of it binds. */
interface RunRows {
  run: RunRow;
  steps: readonly StepRow[];
}

/** The run's value of a column as a parameter: JSON as text (both stores keep it so), dates bound by the driver. */
function runParam(row: RunRow, column: (typeof RUN_COLUMNS)[number]): unknown {
  return column === 'inputs' ? JSON.stringify(row.inputs) : row[column];
}

// SQLite: two inserts in one synchronous transaction, grouped with the others asked for in the
// same turn (db/prepared.ts's group commit).
const INSERT_RUN = statement('insert_run', `insert into runs (${RUN_COLUMNS.join(', ')}) values (${RUN_COLUMNS.map(() => '?').join(', ')})`);
const INSERT_RUN_STEP = statement('insert_run_step', `insert into run_steps (${STEP_COLUMNS.join(', ')}) values (${STEP_COLUMNS.map(() => '?').join(', ')})`);

function sqliteRunWrites({ run, steps }: RunRows): Write[] {
  return [
    { statement: INSERT_RUN, params: RUN_COLUMNS.map((column) => runParam(run, column)) },
    ...steps.map((step) => ({ statement: INSERT_RUN_STEP, params: STEP_COLUMNS.map((column) => step[column]) })),
  ];
}

/**
 * PostgreSQL: any number of runs and all their steps in ONE statement (one round trip, one implicit
 * transaction): each column comes as one array (unnest), so the text is the same for one run of
 * one step and for a hundred runs of flows, and is parsed once per connection. (SQLite has no
 * data-modifying CTE.)
 */
const INSERT_RUNS_WITH_STEPS = statement('insert_runs_with_steps', {
  sqlite: '-- PostgreSQL only',
  postgresql: `with r as (
      insert into runs (${RUN_COLUMNS.join(', ')})
      select * from unnest(${RUN_COLUMNS.map((c) => `cast(? as ${RUN_COLUMN_TYPES[c]}[])`).join(', ')})
      returning id)
    insert into run_steps (${STEP_COLUMNS.join(', ')})
    select s.* from unnest(${STEP_COLUMNS.map((c) => `cast(? as ${STEP_COLUMN_TYPES[c]}[])`).join(', ')}) as s(${STEP_COLUMNS.join(', ')})
    join r on r.id = s.run_id`,
});

function postgresRunsParams(items: readonly RunRows[]): unknown[] {
  return [
    ...RUN_COLUMNS.map((column) => items.map((item) => runParam(item.run, column))),
    ...STEP_COLUMNS.map((column) => items.flatMap((item) => item.steps.map((step) => step[column]))),
  ];
}

/**
 * The runs a PostgreSQL server writes, group-committed (db/group-commit.ts): under load, the runs
 * that finish while one insert is in flight share the next. One per ORM (its pool).
 */
const runWriters = new WeakMap<object, GroupCommit<RunRows>>();

function postgresRunWriter(em: EntityManager): GroupCommit<RunRows> {
  const driver = em.getDriver();
  let writer = runWriters.get(driver);
  if (!writer) {
    const db = preparedDb(em);
    writer = new GroupCommit(async (items) => void (await (await db).run(INSERT_RUNS_WITH_STEPS, postgresRunsParams(items))));
    runWriters.set(driver, writer);
  }
  return writer;
}

class FinishedRunRecorder implements RunRecorder {
  constructor(private readonly em: EntityManager) {}

  async stepStarting(): Promise<void> {}

  async finished(run: Run, steps: readonly RunStep[]): Promise<Run> {
    const row: RunRow = entityRow(this.em, RunSchema, RUN_COLUMNS, run);
    const stepRows: StepRow[] = steps.map((step) => entityRow(this.em, RunStepSchema, STEP_COLUMNS, step));
    if (isPostgres(this.em)) await postgresRunWriter(this.em).write({ run: row, steps: stepRows });
    else await (await preparedDb(this.em)).transaction(sqliteRunWrites({ run: row, steps: stepRows }));
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
