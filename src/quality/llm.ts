// Optional: the incident brief sent to an OpenAI-compatible chat-completions endpoint, whose answer is printed
// beside the deterministic brief. Configured by environment only, so no key lands in a command line or a file:
//   SENSORLAKE_LLM_URL    base URL of the API (e.g. http://localhost:11434/v1); `/chat/completions` is appended
//                         unless the URL already ends with it
//   SENSORLAKE_LLM_MODEL  model name (required when the URL is set)
//   SENSORLAKE_LLM_KEY    bearer token (optional; local servers often need none)
//   SENSORLAKE_LLM_TIMEOUT_S  seconds to wait for the answer (default 60)

import type { Brief } from './brief.js';
import { InvalidArgumentError, SensorlakeError } from '../errors.js';

/** The endpoint failed, timed out, or answered something that is not a chat completion. */
export class LlmError extends SensorlakeError {}

export interface LlmConfig {
  url: string;
  model: string;
  key: string | null;
  timeoutMs: number;
}

export interface LlmAnswer {
  model: string;
  answer: string;
}

/** The configuration from the environment, or null when SENSORLAKE_LLM_URL is unset. */
export function llmConfigFromEnv(env: NodeJS.ProcessEnv = process.env): LlmConfig | null {
  const base = env.SENSORLAKE_LLM_URL?.trim();
  if (!base) return null;
  const model = env.SENSORLAKE_LLM_MODEL?.trim();
  if (!model) throw new InvalidArgumentError('SENSORLAKE_LLM_URL is set but SENSORLAKE_LLM_MODEL is not: name the model to ask');
  let parsed: URL;
  try {
    parsed = new URL(base);
  } catch {
    throw new InvalidArgumentError(`SENSORLAKE_LLM_URL '${base}' is not a URL`);
  }
  const trimmed = parsed.toString().replace(/\/+$/, '');
  const url = trimmed.endsWith('/chat/completions') ? trimmed : `${trimmed}/chat/completions`;
  const timeoutS = env.SENSORLAKE_LLM_TIMEOUT_S === undefined ? 60 : Number(env.SENSORLAKE_LLM_TIMEOUT_S);
  if (!(timeoutS > 0)) throw new InvalidArgumentError(`SENSORLAKE_LLM_TIMEOUT_S '${env.SENSORLAKE_LLM_TIMEOUT_S}' is not a positive number`);
  return { url, model, key: env.SENSORLAKE_LLM_KEY?.trim() || null, timeoutMs: timeoutS * 1000 };
}

const SYSTEM = [
  'You help a plant engineer understand a sensor incident.',
  'You get a deterministic incident brief computed from the plant historian: the reading, how it compares with the sensor\'s normal behaviour, recent anomalies and gaps, and which sensors of the same asset lead or follow it (lags from cross-correlation of differenced series and a Granger-style F test).',
  'Answer in at most 8 short sentences: what most likely happened, which evidence in the brief supports it, what is uncertain, and what to check next on the equipment.',
  'Use only the brief; do not invent readings, and say when the brief is not enough to tell.',
].join(' ');

/** The chat messages for a brief: a system role, and the brief as JSON plus the same text a person reads. */
export function briefMessages(brief: Brief, text: string[]): { role: 'system' | 'user'; content: string }[] {
  return [
    { role: 'system', content: SYSTEM },
    {
      role: 'user',
      content: [
        `Explain what sensor ${brief.sensor.id} did at ${brief.at}.`,
        '',
        'Incident brief (JSON):',
        '```json',
        JSON.stringify(brief, null, 1),
        '```',
        '',
        'The same brief as text:',
        '```',
        ...text,
        '```',
      ].join('\n'),
    },
  ];
}

interface ChatResponse {
  model?: string;
  choices?: { message?: { content?: string | null } }[];
}

/** Asks the endpoint about the brief; LlmError on any failure, naming the URL and what went wrong. */
export async function askLlm(cfg: LlmConfig, brief: Brief, text: string[]): Promise<LlmAnswer> {
  const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'application/json' };
  if (cfg.key) headers.authorization = `Bearer ${cfg.key}`;
  const body = JSON.stringify({ model: cfg.model, messages: briefMessages(brief, text), temperature: 0.2 });
  let res: Response;
  try {
    res = await fetch(cfg.url, { method: 'POST', headers, body, signal: AbortSignal.timeout(cfg.timeoutMs) });
  } catch (e) {
    const why = e instanceof Error && e.name === 'TimeoutError' ? `no answer within ${cfg.timeoutMs / 1000} s` : String(e instanceof Error ? (e.cause ?? e.message) : e);
    throw new LlmError(`LLM endpoint ${cfg.url}: ${why}`, { cause: e });
  }
  const raw = await res.text();
  if (!res.ok) throw new LlmError(`LLM endpoint ${cfg.url}: HTTP ${res.status} ${res.statusText}: ${raw.slice(0, 300)}`);
  let parsed: ChatResponse;
  try {
    parsed = JSON.parse(raw) as ChatResponse;
  } catch {
    throw new LlmError(`LLM endpoint ${cfg.url}: the answer is not JSON: ${raw.slice(0, 200)}`);
  }
  const answer = parsed.choices?.[0]?.message?.content;
  if (typeof answer !== 'string' || answer.trim() === '') throw new LlmError(`LLM endpoint ${cfg.url}: no choices[0].message.content in the answer: ${raw.slice(0, 200)}`);
  return { model: parsed.model ?? cfg.model, answer: answer.trim() };
}
