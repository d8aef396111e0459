// Topic -> sensor_id for MQTT payloads that do not name their sensor (plant gateways often publish just {ts,value} or
// a bare number on plant/<site>/<line>/<sensor>). Rules are `PATTERN=>TEMPLATE`, tried in order; first match wins.

import { InvalidArgumentError } from '../../errors.js';

/**
 * PATTERN is an MQTT topic filter whose levels may also be `{name}` (one level, captured); `+` matches one level and
 * a trailing `#` the rest (zero or more levels), neither captured. TEMPLATE is text with `{name}` placeholders from
 * the pattern and `{topic}` for the whole topic. Example: `plant/{site}/{line}/{sensor}=>{site}.{line}.{sensor}`.
 */
export interface TopicRule {
  /** The rule as written, for messages. */
  text: string;
  /** The subscription filter the pattern stands for (`{name}` -> `+`). */
  filter: string;
  match(topic: string): string | null;
}

const CAPTURE = /^\{([A-Za-z_][A-Za-z0-9_]*)\}$/;
const PLACEHOLDER = /\{([^{}]*)\}/g;

type Level = { kind: 'literal'; text: string } | { kind: 'capture'; name: string } | { kind: 'one' } | { kind: 'rest' };

export function parseTopicRule(text: string): TopicRule {
  const sep = text.indexOf('=>');
  if (sep <= 0 || sep === text.length - 2) {
    throw new InvalidArgumentError(`--topic-map '${text}': expected PATTERN=>TEMPLATE, e.g. 'plant/{site}/{sensor}=>{site}.{sensor}'`);
  }
  const pattern = text.slice(0, sep);
  const template = text.slice(sep + 2);
  const levels: Level[] = pattern.split('/').map((p, i, all): Level => {
    const cap = CAPTURE.exec(p);
    if (cap) return { kind: 'capture', name: cap[1] };
    if (p === '+') return { kind: 'one' };
    if (p === '#') {
      if (i !== all.length - 1) throw new InvalidArgumentError(`--topic-map '${text}': '#' may only be the last level of the pattern`);
      return { kind: 'rest' };
    }
    if (/[{}+#]/.test(p)) {
      throw new InvalidArgumentError(`--topic-map '${text}': level '${p}' mixes text with {name}, + or #; a capture must be a whole level`);
    }
    return { kind: 'literal', text: p };
  });
  const names = new Set<string>();
  for (const l of levels) {
    if (l.kind !== 'capture') continue;
    if (names.has(l.name)) throw new InvalidArgumentError(`--topic-map '${text}': {${l.name}} is captured twice`);
    names.add(l.name);
  }
  for (const m of template.matchAll(PLACEHOLDER)) {
    if (m[1] !== 'topic' && !names.has(m[1])) {
      throw new InvalidArgumentError(`--topic-map '${text}': the template uses {${m[1]}}, which the pattern does not capture (it captures ${[...names].map((n) => `{${n}}`).join(', ') || 'nothing'}; {topic} is the whole topic)`);
    }
  }
  const filter = levels.map((l) => (l.kind === 'literal' ? l.text : l.kind === 'rest' ? '#' : '+')).join('/');

  return {
    text,
    filter,
    match(topic: string): string | null {
      const parts = topic.split('/');
      const got = new Map<string, string>();
      for (let i = 0; i < levels.length; i++) {
        const l = levels[i];
        if (l.kind === 'rest') break;
        if (i >= parts.length) return null;
        if (l.kind === 'literal' && parts[i] !== l.text) return null;
        if (l.kind === 'capture') got.set(l.name, parts[i]);
      }
      const last = levels[levels.length - 1];
      if (last.kind === 'rest' ? parts.length < levels.length - 1 : parts.length !== levels.length) return null;
      // MQTT: a filter starting with a wildcard does not match topics starting with '$' ($SYS, $share).
      if (topic.startsWith('$') && levels[0].kind !== 'literal') return null;
      return template.replace(PLACEHOLDER, (_, name: string) => (name === 'topic' ? topic : (got.get(name) ?? '')));
    },
  };
}

/** The sensor id of a topic: the first rule that matches, else the topic itself. */
export class TopicMap {
  readonly rules: TopicRule[];

  constructor(rules: readonly string[]) {
    this.rules = rules.map(parseTopicRule);
  }

  sensorId(topic: string): string {
    for (const r of this.rules) {
      const id = r.match(topic);
      if (id !== null && id !== '') return id;
    }
    return topic;
  }

  /** Subscription filters standing for the rules, for when no --topic is given. */
  filters(): string[] {
    return [...new Set(this.rules.map((r) => r.filter))];
  }
}
