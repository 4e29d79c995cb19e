/**
 * State a module keeps for one request (the calling key's row, the key path's reads, the keys a
 * list has checked), held by the request's context: a property of one object made with the
 * context (`Context.slots`) and shared by yoga's copy of it. Not an entry of a module-level
 * WeakMap keyed by a per-request object: each such entry costs every young-generation collection
 * that finds it, and a key request made several.
 */
export type RequestSlots = Record<symbol, unknown>;

export class RequestSlot<T> {
  private readonly key: symbol;

  constructor(name: string) {
    this.key = Symbol(name);
  }

  get(ctx: { slots: RequestSlots }): T | undefined {
    return ctx.slots[this.key] as T | undefined;
  }

  set(ctx: { slots: RequestSlots }, value: T | undefined): void {
    ctx.slots[this.key] = value;
  }

  /** The slot's value, made by `make` the first time this request asks. */
  getOrCreate(ctx: { slots: RequestSlots }, make: () => T): T {
    const slots = ctx.slots;
    let value = slots[this.key] as T | undefined;
    if (value === undefined) slots[this.key] = value = make();
    return value;
  }
}
