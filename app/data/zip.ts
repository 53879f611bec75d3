// The members of a zip archive (an .npz file is one), read from its central directory as
// APPNOTE.TXT defines it, zip64 included: names, compression methods, sizes, CRC-32s and where
// each member's data starts. Every offset is checked against the archive's length, so a
// corrupt directory is an error, never a read past the end or an allocation it declares.

export interface ZipMember {
  name: string;
  /** 0 stored, 8 deflated. */
  method: number;
  compressedSize: number;
  /** The size the directory declares for the member's content. */
  size: number;
  crc32: number;
  /** Where the member's (compressed) bytes start in the archive. */
  dataOffset: number;
}

const END_OF_DIRECTORY = 0x06054b50;
const ZIP64_LOCATOR = 0x07064b50;
const ZIP64_END_OF_DIRECTORY = 0x06064b50;
const DIRECTORY_ENTRY = 0x02014b50;
const LOCAL_HEADER = 0x04034b50;
const ZIP64_EXTRA = 0x0001;

/** The archive's members in directory order. `fail` reports a corrupt archive. */
export function zipMembers(bytes: Uint8Array, fail: (what: string) => never): ZipMember[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const need = (offset: number, length: number, what: string) => {
    if (!(offset >= 0 && offset + length <= bytes.length)) fail(`${what} lies past the end of the archive`);
  };
  const u16 = (offset: number, what: string) => (need(offset, 2, what), view.getUint16(offset, true));
  const u32 = (offset: number, what: string) => (need(offset, 4, what), view.getUint32(offset, true));
  const u64 = (offset: number, what: string) => {
    need(offset, 8, what);
    const value = view.getBigUint64(offset, true);
    return value > BigInt(Number.MAX_SAFE_INTEGER) ? fail(`${what} is ${value}, too large to be real`) : Number(value);
  };

  // The end-of-directory record closes the archive, followed by a comment of at most 65535 bytes.
  let end = -1;
  for (let offset = bytes.length - 22; offset >= Math.max(0, bytes.length - 22 - 0xffff); offset--) {
    if (view.getUint32(offset, true) === END_OF_DIRECTORY) {
      end = offset;
      break;
    }
  }
  if (end < 0) fail('no end-of-directory record');
  let count = u16(end + 10, 'the member count');
  let offset = u32(end + 16, 'the directory offset');
  if (count === 0xffff || offset === 0xffffffff) {
    if (u32(end - 20, 'the zip64 locator') !== ZIP64_LOCATOR) fail('the zip64 locator is missing');
    const end64 = u64(end - 12, 'the zip64 directory end');
    if (u32(end64, 'the zip64 directory end') !== ZIP64_END_OF_DIRECTORY) fail('the zip64 directory end is missing');
    count = u64(end64 + 32, 'the member count');
    offset = u64(end64 + 48, 'the directory offset');
  }

  const members: ZipMember[] = [];
  for (let i = 0; i < count; i++) {
    const where = `directory entry ${i}`;
    if (u32(offset, where) !== DIRECTORY_ENTRY) fail(`${where} is missing`);
    const flags = u16(offset + 8, where);
    const method = u16(offset + 10, where);
    const crc32 = u32(offset + 16, where);
    const nameLength = u16(offset + 28, where);
    const extraLength = u16(offset + 30, where);
    const commentLength = u16(offset + 32, where);
    need(offset + 46, nameLength + extraLength, where);
    const name = new TextDecoder().decode(bytes.subarray(offset + 46, offset + 46 + nameLength));
    // Sizes and the local header's offset that do not fit 32 bits are 0xffffffff here and
    // follow, 8 bytes each and in this order, in the zip64 extra field.
    const wide = [u32(offset + 24, where), u32(offset + 20, where), u32(offset + 42, where)];
    const extra = zip64Extra(bytes, offset + 46 + nameLength, extraLength);
    let next = extra.start;
    const [size, compressedSize, localOffset] = wide.map((value) => {
      if (value !== 0xffffffff) return value;
      if (next + 8 > extra.end) return fail(`member '${name}' lacks its zip64 sizes`);
      next += 8;
      return u64(next - 8, `member '${name}'`);
    }) as [number, number, number];
    if (flags & 1) fail(`member '${name}' is encrypted`);
    if (u32(localOffset, `member '${name}'`) !== LOCAL_HEADER) fail(`member '${name}' has no local header at offset ${localOffset}`);
    // The local header repeats the name and has an extra field of its own length; the data follows.
    const dataOffset = localOffset + 30 + u16(localOffset + 26, `member '${name}'`) + u16(localOffset + 28, `member '${name}'`);
    need(dataOffset, compressedSize, `member '${name}'`);
    members.push({ name, method, compressedSize, size, crc32, dataOffset });
    offset += 46 + nameLength + extraLength + commentLength;
  }
  return members;
}

/** The byte range of the zip64 extra field's values inside an extra-field block (empty if it has none). */
function zip64Extra(bytes: Uint8Array, start: number, length: number): { start: number; end: number } {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let offset = start; offset + 4 <= start + length; ) {
    const id = view.getUint16(offset, true);
    const size = view.getUint16(offset + 2, true);
    if (id === ZIP64_EXTRA) return { start: offset + 4, end: Math.min(offset + 4 + size, start + length) };
    offset += 4 + size;
  }
  return { start: 0, end: 0 };
}
