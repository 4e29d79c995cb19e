/**
 * The test API of PromptGate's test files: vitest's `test` with two fixtures, each set up once per
 * file, on first use, and torn down after the file's last test.
 *
 *   h      the real app on a fresh database (startHarness)
 *   world  an organization with an owner, an admin and a member, a prompt and a flow, and an
 *          outsider's organization beside it (buildWorld)
 *
 * A test (or a file's `test.beforeAll`) asks for what it needs by name:
 *
 *   test('an outsider gets NOT_FOUND', async ({ h, world }) => { … });
 *
 * Tests of a file share the harness and the world, as they shared a copied beforeAll before: a
 * test that changes the world makes what it changes itself.
 */
import { test as base } from 'vitest';
import { buildWorld, type World } from './fixtures.ts';
import { startHarness, type Harness } from './harness.ts';

export const test = base
  // eslint-disable-next-line no-empty-pattern -- vitest reads a fixture's dependencies from this pattern
  .extend('h', { scope: 'file' }, async ({}, { onCleanup }): Promise<Harness> => {
    const h = await startHarness();
    onCleanup(() => h.close());
    return h;
  })
  .extend('world', { scope: 'file' }, async ({ h }): Promise<World> => buildWorld(h));

export const it = test;
export { describe, expect } from 'vitest';
