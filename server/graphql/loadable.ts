/**
 * The dataloader plugin types a node's `load` as returning a value or an Error for every id; ours
 * return null for an id with no row (or none the caller's filters see), which DataLoader passes
 * on as null: node(id) answers NOT_FOUND for it, a nullable field null.
 */
export function missingAsNull<T>(rows: Promise<(T | null)[]>): Promise<T[]> {
  return rows as Promise<T[]>;
}
