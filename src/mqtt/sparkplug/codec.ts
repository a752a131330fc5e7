// Sparkplug B payload codec: sparkplug-payload (Eclipse Tahu's protobuf encoding) used ONLY as the
// codec; the edge node's state machine is ours (node.ts). The package is CommonJS.
import { createRequire } from 'node:module';
import type { UMetric, UPayload } from 'sparkplug-payload/lib/sparkplugbpayload.js';

export type { UMetric, UPayload };

interface Codec {
  encodePayload(p: UPayload): Uint8Array;
  decodePayload(b: Uint8Array): UPayload;
}

const require = createRequire(import.meta.url);
const codec = (require('sparkplug-payload') as { get(ns: string): Codec | null }).get('spBv1.0');
if (!codec) throw new Error('sparkplug-payload does not provide the spBv1.0 namespace');

export function encodePayload(p: UPayload): Buffer {
  const bytes = codec!.encodePayload(p);
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

export function decodePayload(b: Uint8Array): UPayload {
  return codec!.decodePayload(b);
}

/** 64-bit values decode as Long objects; numbers here are small enough for a JS number. */
export function toNumber(v: unknown): number {
  if (typeof v === 'number') return v;
  if (
    v &&
    typeof v === 'object' &&
    'toNumber' in v &&
    typeof (v as { toNumber: unknown }).toNumber === 'function'
  )
    return (v as { toNumber(): number }).toNumber();
  return Number(v);
}
