/**
 * The context window on the scripted model: trimming by the estimate, a
 * `provider.context_length` answered by one compaction and one retry, tool
 * outputs of earlier runs cut, the trimmed history kept by a run's later
 * stretch, summaries (and a summarizer that fails), and bad settings.
 */
import { describe, expect, it } from 'vitest'
import { z } from 'zod'
import { Runtime, silentLogger, tool, type ModelRequest, type RunEvent } from '../../src/index.js'
import { summaryInstructions } from '../../src/context-summary.js'
import { callTools, reply, scriptedModel, type TurnPicker } from '../../src/testing/index.js'
import { sqliteStore } from '../../adapters/sqlite/index.js'
import { collect, openRuntime } from '../helpers.js'
import { tempDirectory } from '../sqlite/temp-dir.js'

const historyOf = (request: ModelRequest | undefined): string[] =>
  (request?.messages ?? []).filter((message) => message.fromHistory === true).map((message) => `${message.role}:${message.content}`)

const ofType = <T extends RunEvent['type']>(events: readonly RunEvent[], type: T) => events.filter((event): event is Extract<RunEvent, { type: T }> => event.type === type)

const long = (label: string): string => `${label} ${'word '.repeat(150)}`

const echo: TurnPicker = (request) => reply(long(`re ${String(request.messages.at(-1)?.content).slice(0, 12)}`))

async function runs(runtime: Runtime, sessionId: string, count: number): Promise<string[]> {
  const ids: string[] = []
  for (let index = 0; index < count; index++) {
    const done = await (await runtime.createRun(sessionId, { input: `input ${index}` })).result()
    expect(done.status).toBe('completed')
    ids.push(done.id)
  }
  return ids
}

describe('trimming', () => {
  it('sends the newest earlier runs that fit maxInputTokens, records the rest as dropped, and sends nothing without a bound', async () => {
    const { runtime, model } = await openRuntime(echo, { agent: { historyRuns: 50, context: { maxInputTokens: 1000 } } })
    const { id } = await runtime.createSession()
    const ids = await runs(runtime, id, 12)
    const events = await collect(runtime.runEvents(ids[11] as string))
    const [trimmed] = ofType(events, 'context.trimmed')
    expect(trimmed?.data.max_input_tokens).toBe(1000)
    expect(trimmed?.data.estimated_tokens).toBeLessThanOrEqual(1000)
    const kept = trimmed?.data.history_run_ids as string[]
    expect(kept.length).toBeGreaterThan(0)
    // The newest ones, in order, and the dropped ones are the oldest.
    expect(kept).toEqual(ids.slice(11 - kept.length, 11))
    expect(trimmed?.data.dropped_run_ids).toEqual(ids.slice(0, 11 - kept.length))
    const request = model.requests.at(-1) as ModelRequest
    expect(historyOf(request)).toHaveLength(kept.length * 2)
    // Estimated by bytes / 4: the whole request stays under the bound.
    expect(Buffer.byteLength(JSON.stringify(request.messages)) / 4).toBeLessThan(1000 * 1.2)
    await runtime.close()

    const unbounded = await openRuntime(echo, { agent: { historyRuns: 50 } })
    const session = await unbounded.runtime.createSession()
    const all = await runs(unbounded.runtime, session.id, 12)
    expect(ofType(await collect(unbounded.runtime.runEvents(all[11] as string)), 'context.trimmed')).toEqual([])
    expect(historyOf(unbounded.model.requests.at(-1))).toHaveLength(22)
    await unbounded.runtime.close()
  })

  it('takes the bound from the provider’s context window less the reserve, and corrects its estimate by the input tokens reported', async () => {
    // A model that reports twice the tokens bytes / 4 gives: the estimate doubles after the first report.
    const model = scriptedModel((request) => [...reply(long('re')), { usage: { inputTokens: Math.ceil(Buffer.byteLength(JSON.stringify(request.messages)) / 2), outputTokens: 5 } }], {
      contextWindow: 3000,
    })
    const runtime = await Runtime.open({
      providers: { scripted: model },
      routes: { default: { provider: 'scripted', model: 'm' } },
      agents: [{ key: 'assistant', version: 1, historyRuns: 50, context: { reserveOutputTokens: 1000 } }],
    })
    const { id } = await runtime.createSession()
    const ids = await runs(runtime, id, 12)
    const [trimmed] = ofType(await collect(runtime.runEvents(ids[11] as string)), 'context.trimmed')
    expect(trimmed?.data.max_input_tokens).toBe(2000)
    const sent = model.requests.at(-1) as ModelRequest
    // Twice bytes / 4 is what the model counts: that stays under the bound.
    expect(Buffer.byteLength(JSON.stringify(sent.messages)) / 2).toBeLessThanOrEqual(2000)
    await runtime.close()
  })

  it('cuts long tool outputs of earlier runs, with a marker, and never sends a tool result without its call', async () => {
    const big = tool({ name: 'big', input: z.object({}), execute: () => 'y'.repeat(500) })
    const { runtime, model } = await openRuntime(
      (request) => (request.messages.at(-1)?.role === 'user' ? callTools({ name: 'big', arguments: {} }) : reply('done')),
      { agent: { tools: [big], context: { maxToolOutputChars: 100 } } },
    )
    const { id } = await runtime.createSession()
    await runs(runtime, id, 2)
    const second = model.requests.find((request) => historyOf(request).length > 0) as ModelRequest
    const cut = second.messages.find((message) => message.role === 'tool' && message.fromHistory === true)
    expect(cut?.content).toBe(`${'y'.repeat(100)}\n[… 400 more characters of this tool output left out]`)
    // The run's own tool output is sent whole.
    const own = model.requests.at(-1)?.messages.filter((message) => message.role === 'tool' && message.fromHistory !== true)
    expect(own?.[0]?.content).toBe('y'.repeat(500))
    await runtime.close()
  })

  it('answers provider.context_length with one compaction and one retry, and fails when that is not enough', async () => {
    let limit = 5
    const { runtime, model } = await openRuntime(
      (request) => (request.messages.length > limit ? [{ error: { code: 'provider.context_length', message: 'too long' } }] : reply('short')),
      { agent: { historyRuns: 50 } },
    )
    const { id } = await runtime.createSession()
    await runs(runtime, id, 2)
    const run = await (await runtime.createRun(id, { input: 'third' })).result()
    expect(run.status).toBe('completed')
    const events = await collect(runtime.runEvents(run.id))
    const retry = ofType(events, 'model.retry')
    expect(retry.map((event) => [event.data.error.code, event.data.delay_ms])).toEqual([['provider.context_length', 0]])
    const trimmed = ofType(events, 'context.trimmed')
    expect(trimmed).toHaveLength(1)
    // The retry comes before the trim, so a reader that drops the failed attempt keeps the trim.
    expect((trimmed[0] as RunEvent).seq).toBeGreaterThan((retry[0] as RunEvent).seq)
    expect(historyOf(model.requests.at(-1)).length).toBeLessThan(historyOf(model.requests.at(-2)).length)

    limit = 0
    const failed = await (await runtime.createRun(id, { input: 'fourth' })).result()
    expect(failed.error?.code).toBe('provider.context_length')
    expect(ofType(await collect(runtime.runEvents(failed.id)), 'model.retry')).toHaveLength(1)
    const alone = await (await runtime.createRun({ input: 'no history' })).result()
    expect(alone.error?.code).toBe('provider.context_length')
    expect(ofType(await collect(runtime.runEvents(alone.id)), 'model.retry')).toHaveLength(0)
    await runtime.close()
  })

  it('keeps the trimmed history in the run’s later stretch (after input), as recorded', async () => {
    const confirm = tool({ name: 'confirm', input: z.object({}), needsConfirmation: true, execute: () => 'ok' })
    const { runtime, model } = await openRuntime(
      (request) => {
        const last = request.messages.at(-1)
        if (last?.role === 'tool') return reply('confirmed')
        return last?.content === 'ask' ? callTools({ name: 'confirm', arguments: {} }) : echo(request, 0, 1)
      },
      { agent: { tools: [confirm], historyRuns: 50, context: { maxInputTokens: 800 } } },
    )
    const { id } = await runtime.createSession()
    await runs(runtime, id, 8)
    const handle = await runtime.createRun(id, { input: 'ask' })
    for await (const event of handle.events()) if (event.type === 'run.waiting_for_input') break
    const first = historyOf(model.requests.at(-1))
    await runtime.submitInput(handle.id, { approved: true })
    expect((await handle.result()).status).toBe('completed')
    const trimmed = ofType(await collect(runtime.runEvents(handle.id)), 'context.trimmed')
    // Trimmed once, before its first turn; the later stretch starts from what that recorded, so it trims nothing again.
    expect(trimmed).toHaveLength(1)
    expect(first).toHaveLength((trimmed[0]?.data.history_run_ids.length ?? 0) * 2)
    expect(historyOf(model.requests.at(-1))).toEqual(first)
    await runtime.close()
  })
})

describe('summarizing', () => {
  const summarizing: TurnPicker = (request) => {
    if (request.messages[0]?.content === summaryInstructions) {
      const facts = request.messages.map((message) => message.content).join('\n').match(/fact \d+/g) ?? []
      return [...reply(`Facts: ${[...new Set(facts)].join(', ')}.`), { usage: { inputTokens: 100, outputTokens: 10, cachedInputTokens: 30, cacheWriteInputTokens: 20, reasoningTokens: 7 } }]
    }
    const text = request.messages.map((message) => message.content).join('\n')
    return reply(`known: ${[...new Set(text.match(/fact \d+/g) ?? [])].join(', ')}`)
  }

  it('replaces the older runs with a summary kept on the session, which later runs start from and cost is counted for', async () => {
    const { runtime, model } = await openRuntime(summarizing, {
      agent: { historyRuns: 4, context: { strategy: 'summarize', keepLastTurns: 1 } },
      routes: { default: { provider: 'scripted', model: 'test-model', pricing: { inputPerMillion: 1_000_000, outputPerMillion: 1_000_000, cacheWritePerMillion: 3_000_000 } } },
    })
    const { id } = await runtime.createSession()
    const ids: string[] = []
    for (let index = 1; index <= 6; index++) ids.push((await (await runtime.createRun(id, { input: `fact ${index}` })).result()).id)
    const summarized = (await Promise.all(ids.map(async (runId) => ofType(await collect(runtime.runEvents(runId)), 'context.summarized')))).flat()
    expect(summarized).toHaveLength(1)
    const event = summarized[0] as Extract<RunEvent, { type: 'context.summarized' }>
    // Run 5 had 4 earlier runs (historyRuns): the older 3 became the summary, 1 kept.
    expect(event.runId).toBe(ids[4])
    expect(event.data).toMatchObject({ summary: 'Facts: fact 1, fact 2, fact 3.', covers_through_run_id: ids[2], history_run_ids: [ids[3]], route_id: 'default' })
    const session = await runtime.getSession(id)
    expect(session.contextSummary).toMatchObject({ summary: 'Facts: fact 1, fact 2, fact 3.', coversThroughRunId: ids[2], runId: ids[4] })
    // Run 6 starts from the session's summary, then the runs after it.
    const sixth = await collect(runtime.runEvents(ids[5] as string))
    expect(ofType(sixth, 'run.started')[0]?.data).toMatchObject({ summary_run_id: ids[4], history_run_ids: [ids[3], ids[4]] })
    const last = model.requests.at(-1) as ModelRequest
    expect(last.messages[1]).toEqual({ role: 'system', content: 'Summary of the earlier conversation:\nFacts: fact 1, fact 2, fact 3.', fromHistory: true })
    expect((await runtime.getRun(ids[5] as string)).content).toBe('known: fact 1, fact 2, fact 3, fact 4, fact 5, fact 6')
    // The summary's tokens count in the run that wrote it (its own turn reports none): 50 uncached, 30 cached
    // and 10 out at 1 USD each, 20 written to the cache at 3.
    const writer = await runtime.getRun(ids[4] as string)
    expect(writer.metrics).toMatchObject({ inputTokens: 100, outputTokens: 10, cachedInputTokens: 30, reasoningTokens: 7 })
    expect(writer.totalCostUsd).toBe(150)
    await runtime.close()
  })

  it('trims instead, and says so, when the summarizer fails', async () => {
    const warnings: string[] = []
    const { runtime } = await openRuntime(
      (request) => (request.messages[0]?.content === summaryInstructions ? [{ error: { code: 'provider.auth', message: 'no key' } }] : reply(long('re'))),
      {
        agent: { historyRuns: 50, context: { strategy: 'summarize', maxInputTokens: 600 } },
        logger: { warn: (message: string) => warnings.push(message), error: () => {} },
      },
    )
    const { id } = await runtime.createSession()
    const ids = await runs(runtime, id, 6)
    const events = (await Promise.all(ids.map((runId) => collect(runtime.runEvents(runId))))).flat()
    expect(ofType(events, 'context.summarized')).toEqual([])
    expect(ofType(events, 'context.trimmed').length).toBeGreaterThan(0)
    expect(warnings.some((warning) => warning.includes('could not summarize'))).toBe(true)
    expect((await runtime.getSession(id)).contextSummary).toBeNull()
    await runtime.close()
  })
})

describe('bad settings', () => {
  it.each([
    [{ strategy: 'forget' }, 'context of agent a.strategy'],
    [{ maxInputTokens: 0 }, 'context of agent a.maxInputTokens'],
    [{ keepLastTurns: -1 }, 'context of agent a.keepLastTurns'],
    [{ summarizerRoute: '' }, 'context of agent a.summarizerRoute'],
    ['trim', 'context of agent a'],
  ])('refuses context %j with validation.invalid', async (context, where) => {
    await expect(Runtime.open({ logger: silentLogger, providers: { scripted: scriptedModel([]) }, agents: [{ key: 'a', version: 1, context: context as never }] })).rejects.toMatchObject({
      code: 'validation.invalid',
      message: expect.stringContaining(where),
    })
  })

  it('refuses a route contextWindow that is not a positive integer', async () => {
    await expect(
      Runtime.open({ logger: silentLogger, providers: { scripted: scriptedModel([]) }, routes: { default: { provider: 'scripted', model: 'm', contextWindow: 0 } } }),
    ).rejects.toMatchObject({ code: 'validation.invalid', message: expect.stringContaining('routes.default.contextWindow') })
  })
})

describe('a summarizing run resumed after a restart, on SQLite', () => {
  const confirm = tool({ name: 'confirm', needsConfirmation: true, input: z.object({}), execute: () => 'confirmed' })

  function open(path: string, summaries: string[]) {
    const model = scriptedModel((request) => {
      if (request.messages[0]?.content === summaryInstructions) {
        summaries.push('written')
        return reply(`summary number ${summaries.length}`)
      }
      const last = request.messages.at(-1)
      if (last?.role === 'user' && last.content === 'wait') return callTools({ name: 'confirm', arguments: {} })
      return reply(`re ${last?.role === 'user' ? last.content : 'tool'}`)
    })
    const runtime = Runtime.open({
      store: sqliteStore({ path }),
      providers: { scripted: model },
      routes: { default: { provider: 'scripted', model: 'm' } },
      agents: [{ key: 'a', version: 1, tools: [confirm], historyRuns: 3, context: { strategy: 'summarize', keepLastTurns: 1 } }],
    })
    return { model, runtime }
  }

  it('is sent the summary and the runs it recorded, and the next run starts from the summary kept on the session', async () => {
    const temp = await tempDirectory()
    try {
      const summaries: string[] = []
      const path = temp.file('context.db')
      const before = open(path, summaries)
      const first = await before.runtime
      const { id } = await first.createSession()
      for (const input of ['one', 'two', 'three']) await (await first.createRun(id, { input })).result()
      // Three earlier runs reach historyRuns: this run summarizes two, keeps one, and waits.
      const waiting = await first.createRun(id, { input: 'wait' })
      for await (const event of waiting.events()) if (event.type === 'run.waiting_for_input') break
      const sent = before.model.requests.at(-1)?.messages.filter((message) => message.fromHistory === true)
      expect(sent?.map((message) => message.content)).toEqual(['Summary of the earlier conversation:\nsummary number 1', 'three', 're three'])
      await first.close()

      const after = open(path, summaries)
      const second = await after.runtime
      await second.submitInput(waiting.id, { approved: true })
      expect(await second.waitForRun(waiting.id)).toMatchObject({ status: 'completed', content: 're tool' })
      // The same summary and runs, not a second summary.
      expect(after.model.requests.at(-1)?.messages.filter((message) => message.fromHistory === true)).toEqual(sent)
      expect(summaries).toHaveLength(1)
      expect((await second.getSession(id)).contextSummary).toMatchObject({ summary: 'summary number 1', runId: waiting.id })
      const next = await (await second.createRun(id, { input: 'next' })).result()
      expect(ofType(await collect(second.runEvents(next.id)), 'run.started')[0]?.data.summary_run_id).toBe(waiting.id)
      expect(after.model.requests.at(-1)?.messages.filter((message) => message.fromHistory === true).map((message) => message.content)).toEqual([
        'Summary of the earlier conversation:\nsummary number 1',
        'three',
        're three',
        'wait',
        '',
        'confirmed',
        're tool',
      ])
      await second.close()
    } finally {
      await temp.cleanup()
    }
  })
})
