// The safetensors format (huggingface/safetensors): an 8-byte little-endian header size, a
// JSON header naming each tensor's dtype, shape and byte range, padded with spaces to a
// multiple of 8, then the tensors' little-endian bytes back to back.

export interface NamedTensor {
  name: string;
  shape: readonly number[];
  data: Float32Array;
}

/** The bytes of a .safetensors file holding float32 `tensors`, in order, with string `metadata`. */
export function encodeSafetensors(tensors: readonly NamedTensor[], metadata: Record<string, string> = {}): Uint8Array {
  const header: Record<string, unknown> = { __metadata__: metadata };
  let offset = 0;
  for (const { name, shape, data } of tensors) {
    header[name] = { dtype: 'F32', shape: [...shape], data_offsets: [offset, offset + data.byteLength] };
    offset += data.byteLength;
  }
  let json = new TextEncoder().encode(JSON.stringify(header));
  const padded = Math.ceil(json.length / 8) * 8;
  if (padded !== json.length) json = new TextEncoder().encode(JSON.stringify(header) + ' '.repeat(padded - json.length));
  const bytes = new Uint8Array(8 + json.length + offset);
  const view = new DataView(bytes.buffer);
  view.setBigUint64(0, BigInt(json.length), true);
  bytes.set(json, 8);
  let at = 8 + json.length;
  for (const { data } of tensors) {
    for (let i = 0; i < data.length; i++, at += 4) view.setFloat32(at, data[i]!, true);
  }
  return bytes;
}
