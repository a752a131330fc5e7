// Sparkplug B topic namespace: spBv1.0/<group>/<type>/<edge node>[/<device>], and the 3.0 host STATE.
export const NAMESPACE = 'spBv1.0';

export type NodeMessageType = 'NBIRTH' | 'NDEATH' | 'NDATA' | 'NCMD';
export type DeviceMessageType = 'DBIRTH' | 'DDEATH' | 'DDATA' | 'DCMD';

// Sparkplug ids are topic levels: no "/", "+", "#".
const SPB_ID = /^[^/+#]+$/;

export function checkSparkplugId(what: string, id: string): void {
  if (!SPB_ID.test(id))
    throw new Error(`Sparkplug ${what} "${id}" must be non-empty without "/", "+" or "#"`);
}

export function nodeTopic(group: string, type: NodeMessageType, edge: string): string {
  return `${NAMESPACE}/${group}/${type}/${edge}`;
}

export function deviceTopic(group: string, type: DeviceMessageType, edge: string, device: string): string {
  return `${NAMESPACE}/${group}/${type}/${edge}/${device}`;
}

export function stateTopic(hostId: string): string {
  return `${NAMESPACE}/STATE/${hostId}`;
}
