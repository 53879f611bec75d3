// Inflating compressed data (a gzipped IDX file, a deflated .npz member) with memory bounded
// by what the data's own header declares. inflateHead inflates only the first bytes, to read
// that header; inflateDeclared then inflates the whole stream with zlib's maxOutputLength set
// to the declared size, so a stream that would inflate to more stops right there. A declared
// size beyond LIMITS.inflatedBytes, or beyond what deflate can expand the compressed bytes to,
// is refused before anything is inflated.
import { Gunzip, Inflate } from 'fflate';
import { gunzipSync, inflateRawSync } from 'node:zlib';
import { LimitError } from '../model/errors.ts';
import { LIMITS } from '../model/limits.ts';
import { readableMemorySize } from '../model/summary.ts';

export type Compression = 'gzip' | 'deflate-raw';

/** Compressed bytes fed per step while reading a header: at most ~4 MiB of output per step. */
const HEAD_STEP = 4096;

/**
 * The first `count` inflated bytes, or all of them if the stream holds fewer, inflating only
 * a few steps' worth beyond them. `fail` reports data that is not deflate at all.
 */
export function inflateHead(compressed: Uint8Array, compression: Compression, count: number, fail: (what: string) => never): Uint8Array {
  const parts: Uint8Array[] = [];
  let length = 0;
  const stream = compression === 'gzip' ? new Gunzip() : new Inflate();
  stream.ondata = (chunk: Uint8Array) => {
    parts.push(chunk);
    length += chunk.length;
  };
  try {
    for (let offset = 0; offset < compressed.length && length < count; offset += HEAD_STEP) {
      stream.push(compressed.subarray(offset, offset + HEAD_STEP), offset + HEAD_STEP >= compressed.length);
    }
  } catch (error) {
    fail(`corrupt or truncated ${compression === 'gzip' ? 'gzip' : 'deflate'} data (${(error as Error).message})`);
  }
  const head = new Uint8Array(Math.min(length, count));
  let offset = 0;
  for (const part of parts) {
    if (offset >= head.length) break;
    head.set(part.subarray(0, head.length - offset), offset);
    offset += part.length;
  }
  return head;
}

/**
 * The whole inflated stream, which must be exactly `declared` bytes (the size its header
 * gives). `source` names it in errors; `fail` reports corrupt data.
 */
export function inflateDeclared(compressed: Uint8Array, compression: Compression, declared: number, source: string, fail: (what: string) => never): Uint8Array {
  if (declared > LIMITS.inflatedBytes) {
    throw new LimitError(`${source}: its header declares ${readableMemorySize(declared)} of data, more than the ${readableMemorySize(LIMITS.inflatedBytes)} Strata inflates from one file or member`, { file: source });
  }
  if (declared > LIMITS.inflateRatio * compressed.length + 1024) {
    fail(`its header declares ${declared} bytes, more than its ${compressed.length} compressed bytes can hold (deflate expands data at most ${LIMITS.inflateRatio}-fold): corrupt?`);
  }
  let inflated: Uint8Array;
  try {
    inflated = (compression === 'gzip' ? gunzipSync : inflateRawSync)(compressed, { maxOutputLength: Math.max(1, declared) });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') return fail(`it inflates to more than the ${declared} bytes its header declares: corrupt?`);
    return fail(`corrupt or truncated ${compression === 'gzip' ? 'gzip' : 'deflate'} data (${(error as Error).message})`);
  }
  if (inflated.length !== declared) fail(`it inflates to ${inflated.length} bytes, its header declares ${declared}: truncated?`);
  return inflated;
}
