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

export interface EncodeOptions {
  /** false: leave the datatype out of every metric (NDATA/DDATA: the births declared it). */
  datatypes?: boolean;
}

// sparkplug-payload always writes a metric's datatype (it picks the value field from it); its
// generated protobuf classes let us re-encode the same message without that field.
interface ProtoMetric {
  name?: string;
  alias?: unknown;
  datatype?: number;
}
interface ProtoPayloadType {
  decode(b: Uint8Array): { metrics: ProtoMetric[] };
  encode(m: { metrics: ProtoMetric[] }): { finish(): Uint8Array };
}
const proto = require('sparkplug-payload/lib/sparkplugPayloadProto.js') as {
  org: { eclipse: { tahu: { protobuf: { Payload: ProtoPayloadType } } } };
};
const ProtoPayload = proto.org.eclipse.tahu.protobuf.Payload;

export function encodePayload(p: UPayload, opts: EncodeOptions = {}): Buffer {
  let bytes = codec!.encodePayload(p);
  if (opts.datatypes === false) {
    const msg = ProtoPayload.decode(bytes);
    for (const m of msg.metrics) delete m.datatype;
    bytes = ProtoPayload.encode(msg).finish();
  }
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** Sparkplug B datatype numbers (specification, "Data Types") of the types the node uses. */
export const DATATYPE_NUMBER: Readonly<Record<string, number>> = {
  Int32: 3,
  Int64: 4,
  UInt64: 8,
  Float: 9,
  Double: 10,
  Boolean: 11,
  String: 12,
};

/** The datatype number of a metric that came without one, from its name or alias; undefined: unknown. */
export type DatatypeOf = (m: { name?: string; alias?: unknown }) => number | undefined;

/**
 * Decodes a payload. With `typeOf`, a metric without a datatype (NCMD and DCMD "SHOULD NOT" carry one:
 * the births declared it) gets the one `typeOf` names, so that its value can be read.
 */
export function decodePayload(b: Uint8Array, typeOf?: DatatypeOf): UPayload {
  if (!typeOf) return codec!.decodePayload(b);
  const msg = ProtoPayload.decode(b);
  let filled = false;
  for (const m of msg.metrics) {
    if (Object.hasOwn(m, 'datatype')) continue;
    const t = typeOf({
      name: Object.hasOwn(m, 'name') ? m.name : undefined,
      alias: Object.hasOwn(m, 'alias') ? m.alias : undefined,
    });
    if (t === undefined) continue;
    m.datatype = t;
    filled = true;
  }
  return codec!.decodePayload(filled ? ProtoPayload.encode(msg).finish() : b);
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
