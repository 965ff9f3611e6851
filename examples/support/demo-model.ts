/**
 * The offline demo model of the example server: a ModelProvider that any
 * test or curl can drive by what the user writes.
 *
 * - `/tool NAME {json}` calls tool NAME with that JSON as its arguments, then
 *   answers `NAME returned <result as JSON>`;
 * - `/slow N MS` streams N deltas `w0 `, `w1 `, ..., each MS milliseconds after the previous one;
 * - `/fail` fails with `provider.unavailable` (every attempt, so the run fails once the retries are spent);
 * - `/flaky N` (0 to 10): the first N attempts of each turn stream one delta, then fail with
 *   `provider.unavailable`; the next answers `You said: /flaky N`;
 * - `/recall` answers what its instructions say it remembers about the user (an agent with `memory`);
 * - anything else is answered `You said: <the message>`, one word per delta.
 *
 * A memory extraction request (an agent with `memory: 'auto'`) is answered
 * by keeping the user's message as a memory, unless it is a command.
 */
import type { Message, ModelProvider, ModelRequest } from 'hearth-runtime'
import { reply, scriptedModel, type ScriptStep, type ScriptedTurn } from 'hearth-runtime/testing'

/** The bounds of `/slow`. */
export const slowLimits = Object.freeze({ maxDeltas: 10_000, maxDelayMs: 10_000 })

const slowUsage = `Usage: /slow N MS, with N deltas from 1 to ${slowLimits.maxDeltas} and MS milliseconds from 0 to ${slowLimits.maxDelayMs}.`

/** A rough token count (4 characters a token), so the demo's runs show usage and metrics. */
function tokens(text: string): number {
  return Math.ceil(text.length / 4)
}

function inputTokens(request: ModelRequest): number {
  // The tools' specs are part of a real request's input, as are the messages.
  const tools = request.tools.length === 0 ? 0 : tokens(JSON.stringify(request.tools))
  return request.messages.reduce((sum, message) => sum + tokens(message.content), tools)
}

/** A tool's result as JSON text: JSON output stays as is, plain text becomes a JSON string. */
function resultJson(content: string): string {
  try {
    JSON.parse(content)
    return content
  } catch {
    return JSON.stringify(content)
  }
}

function answer(text: string, request: ModelRequest): ScriptedTurn {
  return [...reply(text), { usage: { inputTokens: inputTokens(request), outputTokens: tokens(text) } }]
}

function slowTurn(argumentsText: string, request: ModelRequest): ScriptedTurn {
  const match = /^(\d{1,6})\s+(\d{1,6})$/.exec(argumentsText)
  const count = Number(match?.[1])
  const delayMs = Number(match?.[2])
  if (match === null || count < 1 || count > slowLimits.maxDeltas || delayMs > slowLimits.maxDelayMs) return answer(slowUsage, request)
  const steps: ScriptStep[] = []
  let text = ''
  for (let index = 0; index < count; index++) {
    if (delayMs > 0) steps.push({ delay: delayMs })
    steps.push({ text: `w${index} ` })
    text += `w${index} `
  }
  steps.push({ usage: { inputTokens: inputTokens(request), outputTokens: tokens(text) } })
  return steps
}

/** The demo's memory extraction: the user's message (after the known facts) becomes a memory. */
function extractionTurn(request: ModelRequest): ScriptedTurn {
  const prompt = request.messages.at(-1)?.content ?? ''
  const message = (prompt.split("The user's message:\n")[1] ?? '').trim()
  const add = message === '' || message.startsWith('/') ? [] : [{ memory: message.slice(0, 5000), topics: ['demo'] }]
  return answer(JSON.stringify({ add, update: [], delete: [] }), request)
}

/** The memory lines of a request's instructions, or a sentence saying there are none. */
function recall(request: ModelRequest): string {
  const system = request.messages.find((message) => message.role === 'system')?.content ?? ''
  const lines = system.split('\n').filter((line) => line.startsWith('- '))
  return lines.length === 0 ? 'I remember nothing about you yet.' : `I remember:\n${lines.join('\n')}`
}

/** The turn the demo model plays for a request, at the loop's `attempt` (from 1) of that turn. */
export function demoTurn(request: ModelRequest, attempt = 1): ScriptedTurn {
  if (request.responseFormat?.name === 'memory_updates') return extractionTurn(request)
  const messages = request.messages
  const results: Extract<Message, { role: 'tool' }>[] = []
  for (let index = messages.length - 1; index >= 0 && messages[index]?.role === 'tool'; index--) {
    results.unshift(messages[index] as Extract<Message, { role: 'tool' }>)
  }
  if (results.length > 0) return answer(results.map((result) => `${result.name} returned ${resultJson(result.content)}`).join('\n'), request)

  const last = [...messages].reverse().find((message) => message.role === 'user')
  const text = (last?.content ?? '').trim()
  if (text === '/recall') return answer(recall(request), request)
  const command = /^\/(tool|slow|fail|flaky)(?:\s+([\s\S]*))?$/.exec(text)
  if (command?.[1] === 'tool') {
    const [, name = '', json = ''] = /^(\S*)\s*([\s\S]*)$/.exec(command[2] ?? '') ?? []
    if (name === '') return answer('Usage: /tool NAME {json}', request)
    return [{ toolCall: { name, arguments: json } }, { usage: { inputTokens: inputTokens(request), outputTokens: tokens(json) } }]
  }
  if (command?.[1] === 'slow') return slowTurn((command[2] ?? '').trim(), request)
  if (command?.[1] === 'fail' && (command[2] ?? '').trim() === '') {
    return [{ error: { code: 'provider.unavailable', message: 'The demo model was asked to fail (/fail)' } }]
  }
  if (command?.[1] === 'flaky') {
    const failures = /^(\d{1,2})$/.exec((command[2] ?? '').trim())
    const count = Number(failures?.[1])
    if (failures === null || count > 10) return answer('Usage: /flaky N, with N from 0 to 10 failed attempts per turn.', request)
    if (attempt <= count) return [{ text: 'Partial ' }, { error: { code: 'provider.unavailable', message: `The demo model failed attempt ${attempt} of ${count} (/flaky)` } }]
  }
  return answer(`You said: ${text}`, request)
}

/** The demo ModelProvider, shown as `model_provider: 'demo'`. */
export function demoModel(): ModelProvider {
  // A small window, as a local model's, so a long session shows its history trimmed (`context.trimmed`).
  return scriptedModel((request, _index, attempt) => demoTurn(request, attempt), { name: 'demo', contextWindow: 8192 })
}
