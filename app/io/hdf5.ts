// HDF5 files (Keras's .h5 and the model.weights.h5 inside a .keras archive) through h5wasm,
// the HDF5 library compiled to WebAssembly. Its ES-module build keeps files on an in-memory
// file system (MEMFS): a file is read from disk by readFileOrThrow (regular files only, size
// bounded), copied into MEMFS, opened there and removed after; a file is written in MEMFS, its
// bytes taken out and written to disk by writeFileAtomic. h5wasm never touches the disk itself.
import type { Attribute, Dataset, File as H5File, Group } from 'h5wasm';
import { FormatError } from '../model/errors.ts';

export type { Dataset, Group, H5File };

interface H5Module {
  FS: { writeFile(path: string, data: Uint8Array): void; readFile(path: string): Uint8Array; unlink(path: string): void };
  activate_throwing_error_handler(): void;
}

type H5wasm = typeof import('h5wasm').default;

let loading: Promise<{ h5wasm: H5wasm; module: H5Module }> | undefined;
let loaded: { h5wasm: H5wasm; module: H5Module } | undefined;
let counter = 0;

/**
 * Loads the HDF5 library once, when a Keras file is first read or written: importing it
 * compiles 4 MB of WebAssembly, which no other command should wait for. HDF5's errors then
 * throw instead of printing to stderr.
 */
export async function loadHdf5(): Promise<void> {
  loading ??= import('h5wasm').then(async ({ default: h5wasm }) => {
    const module = (await h5wasm.ready) as unknown as H5Module;
    module.activate_throwing_error_handler();
    return { h5wasm, module };
  });
  loaded = await loading;
}

function library(): { h5wasm: H5wasm; module: H5Module } {
  if (!loaded) throw new Error('the HDF5 library is not loaded: await loadHdf5() first');
  return loaded;
}

/** HDF5's error stack in one line: its last "minor:" reason ("file signature not found" -> "Not an HDF5 file"). */
export function hdf5Reason(error: unknown): string {
  const text = String((error as Error)?.message ?? error);
  const signature = /file signature not found/.test(text);
  if (signature) return 'not an HDF5 file (no HDF5 signature)';
  const minors = [...text.matchAll(/minor: (.+)/g)].map((m) => m[1]!.trim());
  const detail = [...text.matchAll(/in \w+\(\): (.+)/g)].map((m) => m[1]!.trim());
  return detail.at(-1) ?? minors.at(-1) ?? text.split('\n')[0]!;
}

/**
 * Opens the HDF5 file held in `bytes` (after loadHdf5) and runs `read` on it; the file is closed and removed
 * from memory after, whatever happens. An error from HDF5 itself is a FormatError naming `source`.
 */
export function readHdf5<T>(bytes: Uint8Array, source: string, read: (file: H5File) => T): T {
  const { h5wasm, module: { FS } } = library();
  const name = `/read-${process.pid}-${counter++}.h5`;
  FS.writeFile(name, bytes);
  let file: H5File | undefined;
  try {
    try {
      file = new h5wasm.File(name, 'r');
    } catch (error) {
      throw new FormatError(`${source}: cannot open: ${hdf5Reason(error)}`, { file: source });
    }
    if (file.file_id < 0n) throw new FormatError(`${source}: cannot open: not an HDF5 file`, { file: source });
    try {
      return read(file);
    } catch (error) {
      if (error instanceof Error && !/HDF5-DIAG/.test(error.message)) throw error;
      throw new FormatError(`${source}: corrupt HDF5 file (${hdf5Reason(error)})`, { file: source });
    }
  } finally {
    try {
      file?.close();
    } catch {
      // A damaged file may not close cleanly; its memory goes with the unlink.
    }
    FS.unlink(name);
  }
}

/** The bytes of a new HDF5 file that `write` fills. */
export function writeHdf5(write: (file: H5File) => void): Uint8Array {
  const { h5wasm, module: { FS } } = library();
  const name = `/write-${process.pid}-${counter++}.h5`;
  try {
    const file = new h5wasm.File(name, 'w');
    try {
      write(file);
    } finally {
      file.close();
    }
    return FS.readFile(name);
  } finally {
    FS.unlink(name);
  }
}

/** A group's member, or undefined when there is none (or it is not a group). */
export function childGroup(group: Group, name: string): Group | undefined {
  const entity = group.keys().includes(name) ? group.get(name) : null;
  return entity instanceof library().h5wasm.Group ? entity : undefined;
}

/** The dataset at a path under `group`, or undefined. */
export function datasetAt(group: Group, path: string): Dataset | undefined {
  let current: Group = group;
  const parts = path.split('/');
  for (const part of parts.slice(0, -1)) {
    const next = childGroup(current, part);
    if (!next) return undefined;
    current = next;
  }
  const last = parts.at(-1)!;
  const entity = current.keys().includes(last) ? current.get(last) : null;
  return entity instanceof library().h5wasm.Dataset ? entity : undefined;
}

/** The group at `path` under `group` (created with its parents). */
export function ensureGroup(group: Group, path: string): Group {
  let current = group;
  for (const part of path.split('/').filter(Boolean)) current = childGroup(current, part) ?? current.create_group(part);
  return current;
}

export function attributeNames(group: Group): string[] {
  return Object.keys(group.attrs);
}

/** An attribute's value as text (HDF5 strings, fixed or variable length), or undefined when absent. */
export function textAttribute(group: Group, name: string, where: string): string | undefined {
  const attribute = (group.attrs as Record<string, Attribute>)[name];
  if (!attribute) return undefined;
  const value = attribute.value;
  if (typeof value === 'string') return value;
  if (value instanceof Uint8Array) return new TextDecoder().decode(value);
  throw new FormatError(`${where}: attribute "${name}" must be a string, got ${describeValue(value)}`);
}

/** An attribute holding a list of strings (Keras's layer_names, weight_names); an empty list may be any dtype. */
export function textListAttribute(group: Group, name: string, where: string): string[] | undefined {
  const attribute = (group.attrs as Record<string, Attribute>)[name];
  if (!attribute) return undefined;
  const value = attribute.value;
  if (typeof value === 'string') return [value];
  if (Array.isArray(value) && value.every((v) => typeof v === 'string')) return value as string[];
  if (ArrayBuffer.isView(value) && (value as unknown as { length: number }).length === 0) return [];
  throw new FormatError(`${where}: attribute "${name}" must be a list of strings, got ${describeValue(value)}`);
}

function describeValue(value: unknown): string {
  if (ArrayBuffer.isView(value)) return `${value.constructor.name} of ${(value as unknown as { length: number }).length}`;
  return JSON.stringify(value)?.slice(0, 80) ?? String(value);
}

/** Writes `text` as Keras writes str.encode('utf8') through h5py: a fixed-length ASCII string (non-ASCII escaped as JSON does). */
export function writeTextAttribute(group: Group, name: string, text: string): void {
  group.create_attribute(name, text, null, stringDtype([text]));
}

/**
 * Writes a list of strings as Keras's save_attributes_to_hdf5_group writes a list of bytes:
 * a fixed-length ASCII array as wide as the longest name; an empty list as h5py stores
 * np.asarray([]), an empty float64 array.
 */
export function writeTextListAttribute(group: Group, name: string, list: string[]): void {
  if (list.length === 0) group.create_attribute(name, new Float64Array(0), [0], '<d');
  else group.create_attribute(name, list, [list.length], stringDtype(list));
}

/** A fixed-length string type wide enough for every item: ASCII ('A') as h5py writes bytes, UTF-8 ('S') when an item needs it. */
function stringDtype(items: string[]): string {
  const width = Math.max(1, ...items.map((s) => new TextEncoder().encode(s).length));
  return items.every((s) => /^[\x00-\x7f]*$/.test(s)) ? `A${width}` : `S${width}`;
}
