// An independent decoder for what the edge node publishes: the Sparkplug B payload schema
// (sparkplug_b.proto, Eclipse Sparkplug 3.0 specification, org.eclipse.tahu.protobuf) written out
// here and compiled with protobufjs, NOT via sparkplug-payload (the codec under test). Only the
// messages and fields the node uses are spelled out; protobuf decoders skip the rest.
import protobuf from 'protobufjs';

export const SPARKPLUG_B_PROTO = `
syntax = "proto2";
package org.eclipse.tahu.protobuf;

message Payload {
  message Metric {
    optional string name = 1;
    optional uint64 alias = 2;
    optional uint64 timestamp = 3;
    optional uint32 datatype = 4;
    optional bool is_historical = 5;
    optional bool is_transient = 6;
    optional bool is_null = 7;
    oneof value {
      uint32 int_value = 10;
      uint64 long_value = 11;
      float float_value = 12;
      double double_value = 13;
      bool boolean_value = 14;
      string string_value = 15;
      bytes bytes_value = 16;
    }
  }
  optional uint64 timestamp = 1;
  repeated Metric metrics = 2;
  optional uint64 seq = 3;
  optional string uuid = 4;
  optional bytes body = 5;
}
`;

/** Sparkplug B datatype numbers (specification, "Data Types"). */
export const DT = { Int32: 3, Int64: 4, UInt64: 8, Float: 9, Double: 10, Boolean: 11, String: 12 } as const;

export interface DecodedMetric {
  name?: string;
  alias?: number;
  timestamp?: number;
  datatype?: number;
  value: unknown;
}

export interface DecodedPayload {
  timestamp?: number;
  seq?: number;
  metrics: DecodedMetric[];
}

const root = protobuf.parse(SPARKPLUG_B_PROTO, { keepCase: true }).root;
const Payload = root.lookupType('org.eclipse.tahu.protobuf.Payload');

export function decodeSparkplug(buf: Uint8Array): DecodedPayload {
  const o = Payload.toObject(Payload.decode(buf), { longs: Number, oneofs: true }) as {
    timestamp?: number;
    seq?: number;
    metrics?: (Record<string, unknown> & { value?: string })[];
  };
  return {
    timestamp: o.timestamp,
    seq: o.seq,
    metrics: (o.metrics ?? []).map((m) => ({
      name: m.name as string | undefined,
      alias: m.alias as number | undefined,
      timestamp: m.timestamp as number | undefined,
      datatype: m.datatype as number | undefined,
      value: m.value ? m[m.value] : undefined,
    })),
  };
}

export function encodeSparkplug(p: {
  timestamp?: number;
  seq?: number;
  metrics: { name?: string; alias?: number; datatype?: number; [valueField: string]: unknown }[];
}): Buffer {
  const msg = Payload.fromObject(p);
  return Buffer.from(Payload.encode(msg).finish());
}
