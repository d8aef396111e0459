// Sparkplug B topic names: spBv1.0/<group>/<type>/<edge node>[/<device>], and the host STATE topics of Sparkplug 2.2
// (STATE/<host>) and 3.0 (spBv1.0/STATE/<host>).

export const SPARKPLUG_NAMESPACE = 'spBv1.0';

export const MESSAGE_TYPES = ['NBIRTH', 'NDEATH', 'DBIRTH', 'DDEATH', 'NDATA', 'DDATA', 'NCMD', 'DCMD'] as const;
export type MessageType = (typeof MESSAGE_TYPES)[number];

export type SparkplugTopic =
  | { kind: 'node'; type: MessageType; group: string; edge: string; device: null }
  | { kind: 'device'; type: MessageType; group: string; edge: string; device: string }
  | { kind: 'state'; host: string };

/** The parts of a Sparkplug topic, or a sentence saying why it is not one. */
export function parseSparkplugTopic(topic: string): SparkplugTopic | string {
  const p = topic.split('/');
  if (p[0] === 'STATE' && p.length === 2) return { kind: 'state', host: p[1] };
  if (p[0] !== SPARKPLUG_NAMESPACE) return `topic '${topic}' is not in the ${SPARKPLUG_NAMESPACE} namespace`;
  if (p[1] === 'STATE' && p.length === 3) return { kind: 'state', host: p[2] };
  const type = p[2] as MessageType;
  if (p.length < 4 || !MESSAGE_TYPES.includes(type)) {
    return `topic '${topic}' is not ${SPARKPLUG_NAMESPACE}/<group>/<${MESSAGE_TYPES.join('|')}>/<edge>[/<device>]`;
  }
  const deviceType = type[0] === 'D';
  if (deviceType ? p.length !== 5 : p.length !== 4) {
    return `topic '${topic}': a ${type} topic has ${deviceType ? 'group, edge node and device' : 'group and edge node, no device'}`;
  }
  return deviceType
    ? { kind: 'device', type, group: p[1], edge: p[3], device: p[4] }
    : { kind: 'node', type, group: p[1], edge: p[3], device: null };
}

/** True for topics that `--format auto` reads as Sparkplug B. */
export function looksSparkplug(topic: string): boolean {
  return topic.startsWith(`${SPARKPLUG_NAMESPACE}/`) || topic.startsWith('STATE/');
}
