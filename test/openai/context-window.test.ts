/**
 * The context window through the real `openai` client: a session of 200 runs
 * against a local server that rejects any request over a byte budget (a
 * 4,000-token window at 4 bytes a token, as a small local model would),
 * checks that no tool result is ever sent without its call, and, with
 * `summarize`, that a fact from the first run is still known at the last.
 */
import { describe, expect, it } from 'vitest'
import { z } from 'zod'
import { openaiProvider } from '../../adapters/openai/index.js'
import { Runtime, silentLogger, tool, type ContextOptions, type RunEvent } from '../../src/index.js'
import { summaryInstructions } from '../../src/context-summary.js'
import { callTools, reply } from '../../src/testing/index.js'
import { collect } from '../helpers.js'
import type { FakeReply, RecordedRequest } from './fake-openai-server.js'
import { useFakeOpenAIServer } from './use-fake-server.js'
import { toChatReply } from './wire-script.js'

const windowTokens = 4000
const budgetBytes = windowTokens * 4

interface Tally {
  rejected: number
  orphans: number
  largest: number
}

const tally: Tally = { rejected: 0, orphans: 0, largest: 0 }

/** Tool messages whose call is not in the request, and calls whose result is not. */
function orphans(messages: { role: string; tool_call_id?: string; tool_calls?: { id: string }[] }[]): number {
  const called = new Set<string>()
  const answered = new Set<string>()
  let count = 0
  for (const message of messages) {
    if (message.role === 'assistant') for (const call of message.tool_calls ?? []) called.add(call.id)
    if (message.role === 'tool') {
      if (!called.has(message.tool_call_id as string)) count++
      answered.add(message.tool_call_id as string)
    }
  }
  for (const id of called) if (!answered.has(id)) count++
  return count
}

const filler = (run: string): string => `Noted ${run}. ${'Here is a long and careful answer that fills the window. '.repeat(12)}`

/** The server: over the budget, OpenAI's context_length_exceeded; else a summary, a tool call, or an answer. */
function serve(request: RecordedRequest): FakeReply {
  const bytes = Buffer.byteLength(JSON.stringify(request.body))
  tally.largest = Math.max(tally.largest, bytes)
  const usage = { usage: { inputTokens: Math.ceil(bytes / 4), outputTokens: 50 } }
  if (bytes > budgetBytes) {
    tally.rejected++
    const message = `This model's maximum context length is ${windowTokens} tokens. However, your messages resulted in ${Math.ceil(bytes / 4)} tokens.`
    return { status: 400, body: { error: { message, type: 'invalid_request_error', param: 'messages', code: 'context_length_exceeded' } } }
  }
  const messages = request.body.messages as { role: string; content: string | null; tool_call_id?: string; tool_calls?: { id: string }[] }[]
  tally.orphans += orphans(messages)
  const text = messages.map((message) => message.content ?? '').join('\n')
  const codeWord = /code word is (\S+?)\.?(?:\s|$)/.exec(text)?.[1]
  if (messages[0]?.content === summaryInstructions) {
    return toChatReply([...reply(codeWord === undefined ? 'The user chatted.' : `The user's code word is ${codeWord}. The user chatted.`), usage])
  }
  const last = messages[messages.length - 1] as (typeof messages)[number]
  if (last.role === 'tool') return toChatReply([...reply('The lookup is done.'), usage])
  const input = last.content ?? ''
  if (input.startsWith('look')) return toChatReply([...callTools({ name: 'lookup', arguments: { topic: input } }), usage])
  if (input === 'What is my code word?') return toChatReply([...reply(`Your code word is ${codeWord ?? 'unknown'}.`), usage])
  return toChatReply([...reply(filler(input)), usage])
}

const server = useFakeOpenAIServer({ quiet: true, defaultReply: serve })

const lookup = tool({ name: 'lookup', description: 'Looks a topic up.', input: z.object({ topic: z.string() }), execute: ({ topic }) => `${topic}: ${'x'.repeat(6000)}` })

async function session(context: ContextOptions, historyRuns: number): Promise<{ runtime: Runtime; runIds: string[]; answer: string | null }> {
  tally.rejected = 0
  tally.orphans = 0
  tally.largest = 0
  const runtime = await Runtime.open({
    logger: silentLogger,
    providers: { local: openaiProvider({ apiKey: 'sk-local', baseURL: server.baseURL }) },
    routes: { default: { provider: 'local', model: 'local-4k', contextWindow: windowTokens, retry: { maxAttempts: 1 }, pricing: { inputPerMillion: 0.1, outputPerMillion: 0.4 } } },
    agents: [{ key: 'chat', version: 1, instructions: 'You are a patient assistant.', tools: [lookup], historyRuns, context }],
  })
  const { id } = await runtime.createSession({})
  const runIds: string[] = []
  let answer: string | null = null
  for (let index = 1; index <= 200; index++) {
    const input = index === 1 ? 'Remember this: my code word is ZEBRA-42.' : index === 200 ? 'What is my code word?' : index % 10 === 0 ? `look up topic ${index}` : `Message ${index}`
    const run = await runtime.createRun(id, { input })
    const done = await run.result()
    expect(done.status, `run ${index}: ${JSON.stringify(done.error)}`).toBe('completed')
    runIds.push(run.id)
    answer = done.content
  }
  return { runtime, runIds, answer }
}

const types = (events: RunEvent[]): string[] => events.map((event) => event.type)

describe('a 200-run session in a 4,000-token window', () => {
  it('with trim: never a rejected request, never a tool result without its call, the oldest runs dropped', async () => {
    const { runtime, runIds, answer } = await session({ strategy: 'trim' }, 1000)
    expect(tally).toMatchObject({ rejected: 0, orphans: 0 })
    // It was close to the window: trimming, not luck, kept it under.
    expect(tally.largest).toBeGreaterThan(budgetBytes / 2)
    const last = await collect(runtime.runEvents(runIds[199] as string))
    const started = last.find((event) => event.type === 'run.started')
    const trimmed = last.find((event) => event.type === 'context.trimmed')
    expect(started?.data).toMatchObject({ history_run_ids: runIds.slice(0, 199) })
    expect(trimmed?.data).toMatchObject({ dropped_run_ids: expect.arrayContaining([runIds[0]]), max_input_tokens: windowTokens - 1000 })
    // The first run's fact went with it.
    expect(answer).toBe('Your code word is unknown.')
    await runtime.close()
  }, 120_000)

  it('with summarize: never a rejected request or an orphan, and the first run’s fact carried to the last through the summary', async () => {
    const { runtime, runIds, answer } = await session({ strategy: 'summarize', keepLastTurns: 2 }, 8)
    expect(tally).toMatchObject({ rejected: 0, orphans: 0 })
    expect(answer).toBe('Your code word is ZEBRA-42.')
    const kept = await runtime.getSession((await runtime.getRun(runIds[199] as string)).sessionId)
    expect(kept.contextSummary).toMatchObject({ summary: expect.stringContaining('ZEBRA-42') })
    const summarizing = kept.contextSummary?.runId as string
    const events = await collect(runtime.runEvents(summarizing))
    expect(types(events)).toContain('context.summarized')
    await runtime.close()
  }, 120_000)
})
