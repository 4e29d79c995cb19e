import { Kind, type GraphQLResolveInfo, type SelectionSetNode } from 'graphql';

/**
 * The names of the fields a query selects on the nodes of the connection the current field returns:
 * under `nodes { … }` and `edges { node { … } }`, through fragments and inline fragments, for every
 * place the field appears (graphql merges them into `info.fieldNodes`). It errs on the side of
 * more: a field under @skip or @include counts whatever the condition, and so does a field of an
 * inline fragment on another type. A loader reads only what these fields need (the Integrate tab's
 * page: available-keys.ts).
 */
export function connectionNodeFields(info: GraphQLResolveInfo): Set<string> {
  const found = new Set<string>();
  for (const connection of info.fieldNodes) {
    for (const [name, selection] of fieldsOf(info, connection.selectionSet)) {
      if (name === 'nodes') addFields(info, selection, found);
      else if (name === 'edges') for (const [edgeField, node] of fieldsOf(info, selection)) if (edgeField === 'node') addFields(info, node, found);
    }
  }
  return found;
}

function addFields(info: GraphQLResolveInfo, set: SelectionSetNode | undefined, into: Set<string>): void {
  for (const [name] of fieldsOf(info, set)) into.add(name);
}

/** The fields of a selection set as [name, its own selection set], fragments spread in. */
function fieldsOf(info: GraphQLResolveInfo, set: SelectionSetNode | undefined, seen = new Set<string>()): [string, SelectionSetNode | undefined][] {
  const fields: [string, SelectionSetNode | undefined][] = [];
  for (const selection of set?.selections ?? []) {
    if (selection.kind === Kind.FIELD) fields.push([selection.name.value, selection.selectionSet]);
    else if (selection.kind === Kind.INLINE_FRAGMENT) fields.push(...fieldsOf(info, selection.selectionSet, seen));
    else if (!seen.has(selection.name.value)) {
      // Validation refuses fragment cycles; `seen` only spares a fragment spread twice the walk.
      seen.add(selection.name.value);
      fields.push(...fieldsOf(info, info.fragments[selection.name.value]?.selectionSet, seen));
    }
  }
  return fields;
}
