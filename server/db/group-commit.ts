/**
 * Group commit for a store reached over the network (PostgreSQL): the first item is written at
 * once; items asked for while that write is in flight wait for it and then go together, in one
 * statement. An idle server writes each item as soon as it is asked, with no added wait; a busy one
 * writes many items per round trip (and per commit), where one statement each would pay a round
 * trip, a socket write and a WAL flush each.
 *
 * `writeAll` must write its items atomically (one statement, or one transaction). When a batch
 * fails, each of its items is written again alone, so that only an item that fails by itself
 * fails and the others still commit. Each caller's promise settles once its item is committed.
 */
export class GroupCommit<T> {
  private waiting: { item: T; resolve: () => void; reject: (error: unknown) => void }[] = [];
  private writing = false;

  constructor(
    private readonly writeAll: (items: readonly T[]) => Promise<void>,
    /** The most items in one statement: bounds its parameters and what one failure retries. */
    private readonly maxBatch = 100,
  ) {}

  write(item: T): Promise<void> {
    return new Promise((resolve, reject) => {
      this.waiting.push({ item, resolve, reject });
      if (!this.writing) void this.drain();
    });
  }

  private async drain(): Promise<void> {
    this.writing = true;
    try {
      while (this.waiting.length) {
        const batch = this.waiting.splice(0, this.maxBatch);
        try {
          await this.writeAll(batch.map((entry) => entry.item));
          for (const entry of batch) entry.resolve();
        } catch (error) {
          if (batch.length === 1) batch[0]!.reject(error);
          else {
            for (const entry of batch) {
              await this.writeAll([entry.item]).then(entry.resolve, entry.reject);
            }
          }
        }
      }
    } finally {
      this.writing = false;
    }
  }
}
