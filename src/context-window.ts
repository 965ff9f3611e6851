/**
 * The context window: how much of a session's history a model turn is sent.
 * No tokenizer: a request's size is estimated as its UTF-8 bytes / 4, and the
 * estimate is corrected by the input tokens the provider reported for the
 * previous request on the same route. History is handled a whole earlier run
 * at a time, so a tool call is never sent without its results.
 */
import { ValidationError } from './errors.js'
import type { Message, ToolSpec } from './model.js'
import type { ResolvedRoute } from './routes.js'
import type { Run } from './store.js'

/** How an agent keeps its requests inside the model's context window. */
export interface ContextOptions {
  /** Tokens a request may hold, all included. @default the route's `contextWindow` minus `reserveOutputTokens`; no bound when the window is unknown */
  maxInputTokens?: number
  /** Tokens of the window left for the answer. @default a quarter of the window, at most 4096 */
  reserveOutputTokens?: number
  /**
   * What gives way when the history does not fit: `trim` drops the oldest
   * earlier runs; `summarize` replaces them with a summary kept on the
   * session (`context.summarized`), then trims if that is still too long.
   * @default 'trim'
   */
  strategy?: 'trim' | 'summarize'
  /** With `summarize`: the latest earlier runs kept word for word beside the summary. @default 4 */
  keepLastTurns?: number
  /** Tool outputs of earlier runs longer than this are cut, with a marker saying how much was left out. @default 4000 */
  maxToolOutputChars?: number
  /** The route that writes summaries. @default the route of the turn that needs one */
  summarizerRoute?: string
}

/** An agent's context settings, validated, with defaults. */
export interface ResolvedContext {
  maxInputTokens: number | undefined
  reserveOutputTokens: number | undefined
  strategy: 'trim' | 'summarize'
  keepLastTurns: number
  maxToolOutputChars: number
  summarizerRoute: string | undefined
}

/** The settings of an agent that sets no `context`. */
export const defaultContext: ResolvedContext = Object.freeze({
  maxInputTokens: undefined,
  reserveOutputTokens: undefined,
  strategy: 'trim',
  keepLastTurns: 4,
  maxToolOutputChars: 4000,
  summarizerRoute: undefined,
})

/** Validates an agent's `context`; `validation.failed` names the field. */
export function checkContext(value: ContextOptions | undefined, where: string): ResolvedContext {
  if (value === undefined) return defaultContext
  if (typeof value !== 'object' || value === null) throw new ValidationError(`Expected \`${where}\` to be an object`)
  const integer = (field: 'maxInputTokens' | 'reserveOutputTokens' | 'keepLastTurns' | 'maxToolOutputChars', least: number): number | undefined => {
    const number = value[field]
    if (number === undefined) return undefined
    if (typeof number !== 'number' || !Number.isSafeInteger(number) || number < least) {
      throw new ValidationError(`Expected \`${where}.${field}\` to be an integer from ${least}, got \`${String(number)}\``)
    }
    return number
  }
  const strategy = value.strategy ?? 'trim'
  if (strategy !== 'trim' && strategy !== 'summarize') throw new ValidationError(`Expected \`${where}.strategy\` to be 'trim' or 'summarize', got \`${String(strategy)}\``)
  const summarizerRoute = value.summarizerRoute
  if (summarizerRoute !== undefined && (typeof summarizerRoute !== 'string' || summarizerRoute === '')) {
    throw new ValidationError(`Expected \`${where}.summarizerRoute\` to be a route id`)
  }
  return {
    maxInputTokens: integer('maxInputTokens', 1),
    reserveOutputTokens: integer('reserveOutputTokens', 0),
    strategy,
    keepLastTurns: integer('keepLastTurns', 0) ?? defaultContext.keepLastTurns,
    maxToolOutputChars: integer('maxToolOutputChars', 1) ?? defaultContext.maxToolOutputChars,
    summarizerRoute,
  }
}

/** Bytes counted for each message besides its text: its role and the request's JSON around it. */
const messageOverheadBytes = 32

/** The estimated request bytes of one message. */
export function messageBytes(message: Message): number {
  let bytes = Buffer.byteLength(message.content) + messageOverheadBytes
  if (message.role === 'assistant' && message.toolCalls !== undefined) {
    for (const call of message.toolCalls) bytes += Buffer.byteLength(call.arguments) + call.name.length + call.id.length + messageOverheadBytes
  } else if (message.role === 'tool') {
    bytes += message.toolCallId.length + message.name.length
  }
  return bytes
}

/** The estimated bytes of a request's tools and answer schema. */
export function fixedRequestBytes(tools: readonly ToolSpec[], responseFormat: unknown): number {
  return (tools.length === 0 ? 0 : Buffer.byteLength(JSON.stringify(tools))) + (responseFormat === undefined ? 0 : Buffer.byteLength(JSON.stringify(responseFormat)))
}

/** A tool output cut to `max` characters, with a marker; other messages as they are. */
export function shortened(message: Message, max: number): Message {
  if (message.role !== 'tool' || message.content.length <= max) return message
  const left = message.content.length - max
  return { ...message, content: `${message.content.slice(0, max)}\n[… ${left} more characters of this tool output left out]` }
}

/** One earlier run as history: its messages (system prompts left out, tool outputs cut) and their estimated bytes. */
export interface HistoryRun {
  runId: string
  messages: Message[]
  /** Estimated once a window asks ({@link runBytes}); -1 before. */
  bytes: number
}

/** The estimated request bytes of an earlier run's messages, counted on first use: a run without a window never counts them. */
export function runBytes(run: HistoryRun): number {
  if (run.bytes < 0) {
    let bytes = 0
    for (const message of run.messages) bytes += messageBytes(message)
    run.bytes = bytes
  }
  return run.bytes
}

/** A summary of a session's older runs (`context.summarized`), as kept on the session. */
export interface ContextSummary {
  summary: string
  /** The last run the summary covers: later runs are history of their own. */
  coversThroughRunId: string
  /** The run that made it (its `context.summarized` event). */
  runId: string
  createdAt: string
}

/** What a model turn is sent before the run's own messages. */
export interface History {
  runs: HistoryRun[]
  summary: ContextSummary | undefined
  /** The messages in request order: the summary (a system message), then the runs'. */
  messages: Message[]
  /** Estimated bytes of `messages` once counted ({@link historyBytes}); -1 before. */
  bytes: number
}

/** The estimated request bytes of a history, counted on first use. */
export function historyBytes(history: History): number {
  if (history.bytes < 0) {
    let bytes = history.summary === undefined ? 0 : messageBytes(history.messages[0] as Message)
    for (const run of history.runs) bytes += runBytes(run)
    history.bytes = bytes
  }
  return history.bytes
}

/** The history a run without any has. */
export const emptyHistory: History = Object.freeze({ runs: [], summary: undefined, messages: [], bytes: 0 }) as History

/** An earlier run as history, its tool outputs cut to `maxToolOutputChars`. */
export function historyRun(run: Pick<Run, 'id' | 'messages'>, maxToolOutputChars: number): HistoryRun {
  const messages: Message[] = []
  for (const message of run.messages) if (message.role !== 'system') messages.push({ ...shortened(message, maxToolOutputChars), fromHistory: true })
  return { runId: run.id, messages, bytes: -1 }
}

/** The message a summary is sent as. */
export function summaryMessage(summary: string): Message {
  return { role: 'system', content: `Summary of the earlier conversation:\n${summary}`, fromHistory: true }
}

/** A history of these runs (oldest first) after this summary. */
export function makeHistory(runs: HistoryRun[], summary: ContextSummary | undefined): History {
  if (runs.length === 0 && summary === undefined) return emptyHistory
  const messages: Message[] = summary === undefined ? [] : [summaryMessage(summary.summary)]
  for (const run of runs) for (const message of run.messages) messages.push(message)
  return { runs, summary, messages, bytes: -1 }
}

/** The index of the first of `runs` kept when at most `allowedBytes` of them may be sent: the oldest go first. */
export function firstKept(runs: readonly HistoryRun[], totalBytes: number, allowedBytes: number): number {
  let index = 0
  let bytes = totalBytes
  while (index < runs.length && bytes > allowedBytes) bytes -= runBytes(runs[index++] as HistoryRun)
  return index
}

/** Input tokens reported over estimated tokens, by route: how far bytes / 4 is off for its model. */
const corrections = new WeakMap<ResolvedRoute, number>()

/**
 * A loop stretch's view of the window: the bound of each turn's request,
 * the estimate, and its correction by what the provider reported.
 */
export class ContextWindow {
  readonly options: ResolvedContext
  /** Estimated bytes of the tools and the answer schema, sent with every turn. */
  readonly fixedBytes: number
  /** False when no turn of the stretch can have a bound or a summary due (no window known, trim): its turns skip the fitting. */
  readonly active: boolean
  #sentBytes = 0
  #sentRoute: ResolvedRoute | undefined

  constructor(options: ResolvedContext, fixedBytes: number, route: ResolvedRoute) {
    this.options = options
    this.fixedBytes = fixedBytes
    this.active =
      options.maxInputTokens !== undefined ||
      options.strategy === 'summarize' ||
      route.contextWindow !== undefined ||
      route.fallbacks.some((id) => route.resolve(id).contextWindow !== undefined)
  }

  /** The input tokens a request on `route` may hold; undefined when unbounded. */
  budget(route: ResolvedRoute): number | undefined {
    if (this.options.maxInputTokens !== undefined) return this.options.maxInputTokens
    const window = route.contextWindow
    if (window === undefined) return undefined
    const reserve = this.options.reserveOutputTokens ?? Math.min(4096, Math.floor(window / 4))
    return Math.max(1, window - reserve)
  }

  /** Estimated tokens of `bytes` of request on `route`. */
  tokens(route: ResolvedRoute, bytes: number): number {
    return Math.ceil((bytes / 4) * (corrections.get(route) ?? 1))
  }

  /** The request bytes that fit in `tokens` on `route`. */
  bytes(route: ResolvedRoute, tokens: number): number {
    return Math.floor((tokens * 4) / (corrections.get(route) ?? 1))
  }

  /** Notes the estimated bytes of the request about to be sent. */
  sending(route: ResolvedRoute, bytes: number): void {
    this.#sentRoute = route
    this.#sentBytes = bytes
  }

  /** Corrects the estimate by the input tokens the provider reported for the last request sent. */
  reported(inputTokens: number): void {
    const route = this.#sentRoute
    if (route === undefined || inputTokens <= 0 || this.#sentBytes <= 0) return
    // Bounded, so one odd report (a cached prefix counted apart, a proxy's figure) cannot wreck it.
    corrections.set(route, Math.min(4, Math.max(0.25, inputTokens / (this.#sentBytes / 4))))
    this.#sentRoute = undefined
  }
}
