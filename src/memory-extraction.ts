/**
 * The memory extraction of a run of an agent with `memory: 'auto'`: one
 * request, alongside the run, that reads the user's message and the user's
 * memories and answers which memories to add, change or delete. Its changes
 * commit with its `memory.update_completed`, so they land once, with the
 * event, or not at all; a failure or a timeout commits
 * `memory.update_failed`. The run never fails because of it, and the
 * extraction's text never reaches the run's messages. The run awaits it
 * (bounded by its timeout) before `run.completed`.
 */
import { z } from 'zod'
import { HearthError, toErrorInfo, ValidationError, type ErrorCode } from './errors.js'
import { createId } from './ids.js'
import type { MemoryChange } from './events.js'
import type { JsonSchema, Message, Usage } from './model.js'
import type { ResolvedRoute } from './routes.js'
import type { RunLog } from './run-log.js'
import { usageData } from './run-state.js'
import { checkMemoryText, checkTopics, type MemoryOwner, type MemoryWrites, type UserMemory } from './user-memories.js'

/** The system prompt of an extraction request. */
export const extractionInstructions =
  'You keep a list of lasting facts about a user, for an assistant that talks with them again later. ' +
  "Read the user's message and decide what to remember: facts about the user themselves (name, where they live, work, " +
  'preferences, plans, constraints). Ignore questions and requests that say nothing lasting about the user. ' +
  'Do not add a fact already known; update a known fact the message corrects; delete a known fact the message says is no longer true. ' +
  'Write each memory as one short sentence about the user, in the third person. Answer with JSON only, of the form ' +
  '{"add":[{"memory":"...","topics":["..."]}],"update":[{"memory_id":"...","memory":"...","topics":["..."]}],"delete":["memory_id"]}, ' +
  'with empty lists when nothing changes.'

/** The `responseFormat` of an extraction request (strict-mode friendly: every property required). */
export const extractionFormat: { name: string; schema: JsonSchema } = {
  name: 'memory_updates',
  schema: {
    type: 'object',
    properties: {
      add: {
        type: 'array',
        items: { type: 'object', properties: { memory: { type: 'string' }, topics: { type: 'array', items: { type: 'string' } } }, required: ['memory', 'topics'], additionalProperties: false },
      },
      update: {
        type: 'array',
        items: {
          type: 'object',
          properties: { memory_id: { type: 'string' }, memory: { type: 'string' }, topics: { type: 'array', items: { type: 'string' } } },
          required: ['memory_id', 'memory', 'topics'],
          additionalProperties: false,
        },
      },
      delete: { type: 'array', items: { type: 'string' } },
    },
    required: ['add', 'update', 'delete'],
    additionalProperties: false,
  },
}

const answerSchema = z.object({
  add: z.array(z.object({ memory: z.string(), topics: z.array(z.string()).optional() })).default([]),
  update: z.array(z.object({ memory_id: z.string(), memory: z.string(), topics: z.array(z.string()).optional() })).default([]),
  delete: z.array(z.string()).default([]),
})

/** What a run's extraction needs. */
export interface MemoryTaskOptions {
  owner: MemoryOwner
  agentKey: string
  /** The route the extraction is sent to. */
  route: ResolvedRoute
  /** The user's message. */
  input: string
  /** The user's memories it may change, newest first. */
  known: readonly UserMemory[]
  timeoutMs: number
  /** Aborts with the run (cancel, close): the extraction stops and records nothing. */
  signal: AbortSignal
}

/** The request an extraction sends: the instructions, then the known memories and the user's message. */
export function extractionMessages(known: readonly UserMemory[], input: string): Message[] {
  const facts = known.length === 0 ? '(none)' : known.map((memory) => `- [${memory.id}] ${memory.memory}${memory.topics.length === 0 ? '' : ` (topics: ${memory.topics.join(', ')})`}`).join('\n')
  return [
    { role: 'system', content: extractionInstructions },
    { role: 'user', content: `Known facts about the user:\n${facts}\n\nThe user's message:\n${input}` },
  ]
}

class MemoryFailure extends HearthError {}

/**
 * A run's extraction under way in this process. It appends its end event to
 * the run's log when it ends, wherever the run is then (a model turn, a wait
 * for input); `settled` resolves once it did, or once it gave up.
 */
export class MemoryTask {
  readonly #log: RunLog
  readonly #options: MemoryTaskOptions
  readonly #controller = new AbortController()
  #ended = false
  /** Resolves once the extraction's end is appended (or dropped: the run ended or was aborted first). */
  readonly settled: Promise<void>

  constructor(log: RunLog, options: MemoryTaskOptions) {
    this.#log = log
    this.#options = options
    this.settled = this.#run()
  }

  /** Stops the extraction without recording anything (the run left this process, or already recorded its end). */
  stop(): void {
    this.#ended = true
    this.#controller.abort(new Error('The run left this runtime'))
  }

  async #run(): Promise<void> {
    const { route, signal, timeoutMs } = this.#options
    const onAbort = (): void => this.#controller.abort(signal.reason)
    if (signal.aborted) onAbort()
    else signal.addEventListener('abort', onAbort, { once: true })
    const timer = setTimeout(() => this.#controller.abort(new MemoryFailure('memory.timeout', `The memory extraction took longer than ${timeoutMs} ms`)), timeoutMs)
    let usage: Usage = { inputTokens: 0, outputTokens: 0 }
    try {
      let text = ''
      const request = { model: route.model, messages: extractionMessages(this.#options.known, this.#options.input), tools: [], responseFormat: extractionFormat }
      for await (const chunk of route.provider.stream(request, { signal: this.#controller.signal, attempt: 1 })) {
        if (chunk.type === 'text-delta') text += chunk.text
        else if (chunk.type === 'usage') usage = chunk
      }
      this.#controller.signal.throwIfAborted()
      this.#finish(undefined, this.#changes(text), usage)
    } catch (error) {
      const reason: unknown = this.#controller.signal.aborted ? this.#controller.signal.reason : error
      // The run was cancelled or the runtime closed: nothing to record (a resumed run extracts again).
      if (signal.aborted && !(reason instanceof MemoryFailure)) return
      this.#finish(toErrorInfo(reason), undefined, usage)
    } finally {
      clearTimeout(timer)
      signal.removeEventListener('abort', onAbort)
    }
  }

  /** The writes and the changes an answer asks for; `memory.invalid` when it is not the JSON asked for. */
  #changes(text: string): { writes: MemoryWrites; changes: MemoryChange[] } {
    let answer: z.output<typeof answerSchema>
    try {
      answer = answerSchema.parse(JSON.parse(stripFence(text)))
    } catch {
      throw new MemoryFailure('memory.invalid', `The memory extraction did not answer with the JSON asked for: ${text.slice(0, 200)}`)
    }
    const { owner, agentKey, known } = this.#options
    const byId = new Map(known.map((memory) => [memory.id, memory]))
    const texts = new Set(known.map((memory) => memory.memory.trim().toLowerCase()))
    const now = new Date().toISOString()
    const put: UserMemory[] = []
    const deleted: string[] = []
    const changes: MemoryChange[] = []
    try {
      for (const entry of answer.add) {
        const memory = checkMemoryText(entry.memory.trim(), 'an added memory')
        if (texts.has(memory.toLowerCase())) continue
        texts.add(memory.toLowerCase())
        const topics = checkTopics(entry.topics ?? [], 'its topics')
        const record: UserMemory = { id: createId('mem'), ...owner, agentKey, memory, topics, createdAt: now, updatedAt: now }
        put.push(record)
        changes.push({ action: 'add', memory_id: record.id, memory, topics })
      }
      // Only memories it was shown: an id it made up (perhaps another user's) changes nothing.
      for (const entry of answer.update) {
        const current = byId.get(entry.memory_id)
        if (current === undefined || deleted.includes(current.id)) continue
        const memory = checkMemoryText(entry.memory.trim(), 'an updated memory')
        const topics = entry.topics === undefined ? current.topics : checkTopics(entry.topics, 'its topics')
        put.push({ ...current, memory, topics, updatedAt: now })
        changes.push({ action: 'update', memory_id: current.id, memory, topics })
      }
      for (const id of new Set(answer.delete)) {
        if (!byId.has(id) || put.some((memory) => memory.id === id)) continue
        deleted.push(id)
        changes.push({ action: 'delete', memory_id: id })
      }
    } catch (error) {
      if (error instanceof ValidationError) throw new MemoryFailure('memory.invalid', `The memory extraction answered a memory that cannot be kept: ${error.message}`)
      throw error
    }
    return { writes: { ...owner, put, delete: deleted }, changes }
  }

  #finish(error: { code: ErrorCode; message: string } | undefined, result: { writes: MemoryWrites; changes: MemoryChange[] } | undefined, usage: Usage | undefined): void {
    if (this.#ended) return
    this.#ended = true
    const log = this.#log
    // Ended already (abandoned by the run's end), or no longer this process's to write.
    if (log.sealed || log.broken !== undefined || log.state.memory !== 'pending') return
    const route_id = this.#options.route.id
    const spent = usageData(usage ?? { inputTokens: 0, outputTokens: 0 })
    if (result === undefined) {
      log.append('memory.update_failed', { error: error as { code: ErrorCode; message: string }, route_id, usage: spent })
      return
    }
    const { writes, changes } = result
    const count = (action: MemoryChange['action']): number => changes.filter((change) => change.action === action).length
    log.append('memory.update_completed', { added: count('add'), updated: count('update'), deleted: count('delete'), changes, route_id, usage: spent })
    if (changes.length > 0) log.writeMemories(writes)
  }
}

/**
 * Records the end of a run's extraction that has not ended, as the run ends
 * first (it failed or was cancelled): `memory.update_failed` with
 * `memory.abandoned`, before the run's terminal event.
 */
export function abandonPendingMemory(log: RunLog, why: string): void {
  if (log.state.memory !== 'pending' || log.sealed) return
  const usage = usageData({ inputTokens: 0, outputTokens: 0 })
  log.append('memory.update_failed', { error: { code: 'memory.abandoned', message: why }, route_id: log.state.memoryRouteId ?? '', usage })
}

/** The JSON inside a Markdown code fence, which some models put around it. */
function stripFence(text: string): string {
  const trimmed = text.trim()
  const match = /^```(?:json)?\s*([\s\S]*?)\s*```$/.exec(trimmed)
  return match === null ? trimmed : (match[1] as string)
}
