// Mutations of real files for property-based fuzzing (fast-check): byte edits of the kinds
// libFuzzer's mutator makes (a byte set, an interesting integer written over 1 to 8 bytes,
// bytes inserted, deleted, duplicated, the file cut short), and edits of a JSON document's
// tree (a value replaced by a hostile one, a key deleted or added). fast-check shrinks a
// failing case to its fewest, smallest edits, so a finding reads as "seed N with these edits".
import fc from 'fast-check';

/** Values that sit on the edges of the integer widths file formats use. */
const INTERESTING_INTEGERS = [0, 1, 2, 0x7f, 0x80, 0xff, 0x100, 0x7fff, 0x8000, 0xffff, 0x7fffffff, 0x80000000, 0xffffffff, 2 ** 53 - 1, 2 ** 63];

type ByteEdit =
  | { kind: 'set'; at: number; value: number }
  | { kind: 'integer'; at: number; value: number; width: 1 | 2 | 4 | 8; littleEndian: boolean }
  | { kind: 'insert'; at: number; bytes: Uint8Array }
  | { kind: 'delete'; at: number; length: number }
  | { kind: 'duplicate'; at: number; length: number; to: number }
  | { kind: 'truncate'; at: number };

const position = fc.nat();
const byteEdit: fc.Arbitrary<ByteEdit> = fc.oneof(
  fc.record({ kind: fc.constant('set' as const), at: position, value: fc.integer({ min: 0, max: 255 }) }),
  fc.record({
    kind: fc.constant('integer' as const),
    at: position,
    value: fc.constantFrom(...INTERESTING_INTEGERS),
    width: fc.constantFrom(1 as const, 2 as const, 4 as const, 8 as const),
    littleEndian: fc.boolean(),
  }),
  fc.record({ kind: fc.constant('insert' as const), at: position, bytes: fc.uint8Array({ minLength: 1, maxLength: 16 }) }),
  fc.record({ kind: fc.constant('delete' as const), at: position, length: fc.integer({ min: 1, max: 64 }) }),
  fc.record({ kind: fc.constant('duplicate' as const), at: position, length: fc.integer({ min: 1, max: 64 }), to: position }),
  fc.record({ kind: fc.constant('truncate' as const), at: position }),
);

/** `value` as `width` bytes (two's complement, wrapped), in the given byte order. */
function integerBytes(value: number, width: number, littleEndian: boolean): Uint8Array {
  const out = new Uint8Array(width);
  let rest = BigInt.asUintN(width * 8, BigInt(value));
  for (let i = 0; i < width; i++) {
    out[littleEndian ? i : width - 1 - i] = Number(rest & 0xffn);
    rest >>= 8n;
  }
  return out;
}

function applyByteEdit(bytes: Uint8Array, edit: ByteEdit): Uint8Array {
  const at = edit.at % (bytes.length + 1);
  const splice = (start: number, remove: number, insert: Uint8Array = new Uint8Array(0)) => {
    const out = new Uint8Array(bytes.length - remove + insert.length);
    out.set(bytes.subarray(0, start), 0);
    out.set(insert, start);
    out.set(bytes.subarray(start + remove), start + insert.length);
    return out;
  };
  switch (edit.kind) {
    case 'set':
      return at < bytes.length ? splice(at, 1, Uint8Array.of(edit.value)) : bytes;
    case 'integer': {
      const value = integerBytes(edit.value, edit.width, edit.littleEndian);
      return splice(at, Math.min(edit.width, bytes.length - at), value);
    }
    case 'insert':
      return splice(at, 0, edit.bytes);
    case 'delete':
      return splice(at, Math.min(edit.length, bytes.length - at));
    case 'duplicate':
      return splice(edit.to % (bytes.length + 1), 0, bytes.slice(at, at + edit.length));
    case 'truncate':
      return bytes.subarray(0, at);
  }
}

/** One of `seeds` (real files' bytes) with 1 to `maxEdits` byte edits. */
export function mutatedBytes(seeds: readonly Uint8Array[], maxEdits = 6): fc.Arbitrary<Uint8Array> {
  return fc
    .record({ seed: fc.integer({ min: 0, max: seeds.length - 1 }), edits: fc.array(byteEdit, { minLength: 1, maxLength: maxEdits }) })
    .map(({ seed, edits }) => edits.reduce(applyByteEdit, seeds[seed]!));
}

// --- JSON documents --------------------------------------------------------------------

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** Values that break readers which trust a field's type or range. */
const HOSTILE_VALUES: Json[] = [
  null, true, false, 0, -1, 1, 0.5, -0.5, 1e308, -1e308, 2 ** 31, 2 ** 53, -(2 ** 53), 1e-320,
  '', 'x', '0', 'null', 'NaN', '../../../etc/passwd', '/etc/passwd', '__proto__', 'constructor',
  [], [0], [-1], [null], [1, 2, 3], [2 ** 31, 2 ** 31], [[0, 0, 0]], {},
];
/** Keys worth adding: JavaScript's own property names, and keys the formats use. */
const HOSTILE_KEYS = ['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'name', 'class_name', 'config', 'layers', 'units', 'shape', 'dtype', 'paths', 'weights', 'inbound_nodes', 'batch_input_shape'];

type JsonEdit =
  | { kind: 'replace'; at: number; value: Json }
  | { kind: 'delete'; at: number }
  | { kind: 'addKey'; at: number; key: string; value: Json }
  | { kind: 'duplicate'; at: number };

function hostileJson(extra: readonly Json[]): fc.Arbitrary<Json> {
  return fc.oneof(fc.constantFrom(...HOSTILE_VALUES, ...extra), fc.jsonValue({ maxDepth: 2 }) as fc.Arbitrary<Json>);
}

function jsonEdit(extraValues: readonly Json[]): fc.Arbitrary<JsonEdit> {
  const at = fc.nat();
  const value = hostileJson(extraValues);
  return fc.oneof(
    { weight: 4, arbitrary: fc.record({ kind: fc.constant('replace' as const), at, value }) },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant('delete' as const), at }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('addKey' as const), at, key: fc.constantFrom(...HOSTILE_KEYS), value }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('duplicate' as const), at }) },
  );
}

type Container = Json[] | { [key: string]: Json };

function isContainer(value: Json): value is Container {
  return typeof value === 'object' && value !== null;
}

/** Every value of the tree with where it sits (the root has no parent), depth first. */
function treeNodes(root: Json): { node: Json; parent?: Container; key?: string | number }[] {
  const nodes: { node: Json; parent?: Container; key?: string | number }[] = [{ node: root }];
  for (let i = 0; i < nodes.length; i++) {
    const { node } = nodes[i]!;
    if (!isContainer(node)) continue;
    for (const [key, child] of Object.entries(node)) nodes.push({ node: child, parent: node, key: Array.isArray(node) ? Number(key) : key });
  }
  return nodes;
}

/** Applies an edit to one value of the tree, every value equally likely (`at` modulo their number); `doc` is a copy. */
function applyJsonEdit(doc: Json, edit: JsonEdit): Json {
  const nodes = treeNodes(doc);
  const { node, parent, key } = nodes[edit.at % nodes.length]!;
  const define = (object: Container, name: string | number, value: Json) => Object.defineProperty(object, name, { value, enumerable: true, writable: true, configurable: true });
  switch (edit.kind) {
    case 'replace':
      if (parent === undefined) return edit.value;
      define(parent, key!, edit.value);
      return doc;
    case 'delete':
      if (Array.isArray(parent)) parent.splice(key as number, 1);
      else if (parent) delete parent[key as string];
      return doc;
    case 'addKey':
      if (isContainer(node) && !Array.isArray(node)) define(node, edit.key, edit.value);
      return doc;
    case 'duplicate':
      if (Array.isArray(parent)) parent.splice(key as number, 0, structuredClone(node));
      return doc;
  }
}

/**
 * One of `seeds` (real JSON documents, as text) with 1 to `maxEdits` tree edits, as text;
 * `extraValues` are values the format gives meaning to (class names, dtypes).
 */
export function mutatedJson(seeds: readonly string[], extraValues: readonly Json[] = [], maxEdits = 4): fc.Arbitrary<string> {
  const parsed = seeds.map((text) => JSON.parse(text) as Json);
  return fc
    .record({ seed: fc.integer({ min: 0, max: seeds.length - 1 }), edits: fc.array(jsonEdit(extraValues), { minLength: 1, maxLength: maxEdits }) })
    .map(({ seed, edits }) => JSON.stringify(edits.reduce(applyJsonEdit, structuredClone(parsed[seed]!))));
}
