/**
 * scriptedModel(): a ModelProvider that plays back scripted turns, so tests get
 * a deterministic local runtime. No network, no randomness.
 */
import { ProviderError, type HearthError, type ProviderErrorCode } from '../errors.js'
import type { FinishReason, ModelChunk, ModelProvider, ModelRequest, Pricing, Usage } from '../model.js'

/** One step of a scripted turn. */
export type ScriptStep =
  | { text: string }
  /** Reasoning text; with `signature`, the last of a thinking block, which then streams whole as a `reasoning-block` with that signature. */
  | { reasoning: string; signature?: string }
  /** A redacted thinking block (`reasoning-block` of type `redacted_thinking`). */
  | { redactedReasoning: string }
  | { toolCall: { name: string; arguments: unknown; id?: string } }
  | { usage: Usage }
  | { delay: number }
  | { error: HearthError | Error | { code: ProviderErrorCode; message?: string } }
  | { finish: FinishReason }

/** One model turn: its steps in order. */
export type ScriptedTurn = readonly ScriptStep[]

/**
 * Picks the turn for a request when the script is a function: `index` as the
 * mode counts it, `attempt` the loop's attempt at this turn (from 1).
 */
export type TurnPicker = (request: ModelRequest, index: number, attempt: number) => ScriptedTurn

/** Options of {@link scriptedModel}. */
export interface ScriptedModelOptions {
  /**
   * How a request finds its turn in a list script.
   * - `'per-run'`: turn n is the number of assistant messages after the last user
   *   message, so one script serves many runs at once, and a resumed run replays
   *   the same turn.
   * - `'sequential'`: turns are played in order across all requests.
   * @default 'per-run'
   */
  mode?: 'per-run' | 'sequential'
  /** The price reported for every model. @default undefined (free) */
  pricing?: Pricing
  /** Shown as `model_provider`. @default 'scripted' */
  name?: string
  /** The model a route uses when it names none (`Runtime.open({ model: scriptedModel(...) })`). @default 'scripted' */
  model?: string
  /** How many of the latest requests `requests` keeps (older ones are dropped). @default 1000 */
  keepRequests?: number
  /** The context window reported for every model (`contextWindow(model)`). @default undefined (unknown) */
  contextWindow?: number
}

/** The scripted ModelProvider, with what it was asked. */
export interface ScriptedModel extends ModelProvider {
  /** The requests received, in order (the latest `keepRequests`). */
  readonly requests: ModelRequest[]
}

let callCounter = 0

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason)
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort)
      resolve()
    }, ms)
    const onAbort = (): void => {
      clearTimeout(timer)
      reject(signal.reason)
    }
    signal.addEventListener('abort', onAbort, { once: true })
  })
}

function turnIndexOf(request: ModelRequest): number {
  let index = 0
  for (let position = request.messages.length - 1; position >= 0; position--) {
    const role = request.messages[position]?.role
    if (role === 'user') break
    if (role === 'assistant') index++
  }
  return index
}

async function* play(turn: ScriptedTurn, signal: AbortSignal): AsyncGenerator<ModelChunk> {
  let finished = false
  let calledTools = false
  let thinking = ''
  for (const step of turn) {
    if (signal.aborted) throw signal.reason
    if ('text' in step) yield { type: 'text-delta', text: step.text }
    else if ('reasoning' in step) {
      if (step.reasoning !== '') yield { type: 'reasoning-delta', text: step.reasoning }
      thinking += step.reasoning
      if (step.signature !== undefined) {
        yield { type: 'reasoning-block', block: { type: 'thinking', thinking, signature: step.signature } }
        thinking = ''
      }
    } else if ('redactedReasoning' in step) yield { type: 'reasoning-block', block: { type: 'redacted_thinking', data: step.redactedReasoning } }
    else if ('toolCall' in step) {
      calledTools = true
      const call = step.toolCall
      yield {
        type: 'tool-call',
        id: call.id ?? `call_${++callCounter}`,
        name: call.name,
        arguments: typeof call.arguments === 'string' ? call.arguments : JSON.stringify(call.arguments ?? {}),
      }
    } else if ('usage' in step) yield { type: 'usage', ...step.usage }
    else if ('delay' in step) await sleep(step.delay, signal)
    else if ('error' in step) {
      const error = step.error
      if (error instanceof Error) throw error
      throw new ProviderError(error.code, error.message ?? `Scripted ${error.code}`)
    } else if ('finish' in step) {
      finished = true
      yield { type: 'finish', reason: step.finish }
    }
  }
  if (!finished) yield { type: 'finish', reason: calledTools ? 'tool_calls' : 'stop' }
}

/**
 * A ModelProvider that plays back `script`: a list of turns, or a function that
 * picks the turn for each request. A request past the end of a list fails with
 * `provider.bad_response`.
 */
export function scriptedModel(script: readonly ScriptedTurn[] | TurnPicker, options: ScriptedModelOptions = {}): ScriptedModel {
  if (typeof script !== 'function' && !Array.isArray(script)) {
    throw new TypeError('Expected `script` to be an array of turns or a function')
  }
  const mode = options.mode ?? 'per-run'
  if (mode !== 'per-run' && mode !== 'sequential') {
    throw new TypeError(`Expected \`mode\` to be 'per-run' or 'sequential', got \`${String(mode)}\``)
  }
  const requests: ModelRequest[] = []
  const keep = options.keepRequests ?? 1000
  if (!Number.isSafeInteger(keep) || keep < 0) throw new TypeError(`Expected \`keepRequests\` to be a non-negative integer, got \`${String(keep)}\``)
  const window = options.contextWindow
  if (window !== undefined && (!Number.isSafeInteger(window) || window < 1)) throw new TypeError(`Expected \`contextWindow\` to be a positive integer, got \`${String(window)}\``)
  let sequence = 0
  return {
    ...(window === undefined ? {} : { contextWindow: () => window }),
    name: options.name ?? 'scripted',
    model: options.model ?? 'scripted',
    requests,
    pricing: () => options.pricing,
    stream(request, { signal, attempt }) {
      if (keep > 0) {
        if (requests.length >= keep) requests.shift()
        requests.push(request)
      }
      const index = mode === 'sequential' ? sequence++ : turnIndexOf(request)
      const turn = typeof script === 'function' ? script(request, index, attempt ?? 1) : (script as readonly ScriptedTurn[])[index]
      if (turn === undefined) {
        return play([{ error: new ProviderError('provider.bad_response', `The script has no turn ${index}`) }], signal)
      }
      return play(turn, signal)
    },
  }
}

/** A turn that answers `text`, split into `deltas` pieces (by words when not given). */
export function reply(text: string, options: { deltas?: number; usage?: Usage; delayMs?: number } = {}): ScriptedTurn {
  const pieces: string[] = []
  if (options.deltas === undefined) {
    const words = text.split(/(?<= )/)
    for (const word of words) if (word !== '') pieces.push(word)
  } else {
    const size = Math.max(1, Math.ceil(text.length / Math.max(1, options.deltas)))
    for (let start = 0; start < text.length; start += size) pieces.push(text.slice(start, start + size))
  }
  const steps: ScriptStep[] = []
  for (const piece of pieces) {
    if (options.delayMs !== undefined) steps.push({ delay: options.delayMs })
    steps.push({ text: piece })
  }
  if (options.usage !== undefined) steps.push({ usage: options.usage })
  return steps
}

/** A turn that calls one or more tools. */
export function callTools(
  ...calls: { name: string; arguments: unknown; id?: string }[]
): ScriptedTurn {
  return calls.map((call) => ({ toolCall: call }))
}
