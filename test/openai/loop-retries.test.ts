/**
 * The loop's retries, through the real `openai` client (which itself retries
 * nothing now) against the local wire server: each failed attempt is a
 * committed `model.retry`, its partial deltas void, and the run's content
 * and history keep only the attempt that succeeded.
 */
import { describe, expect, it } from 'vitest'
import { openaiProvider } from '../../adapters/openai/index.js'
import { backoffMs } from '../../src/backoff.js'
import { Runtime, silentLogger, type RetryPolicy, type RunEvent } from '../../src/index.js'
import { scriptedModel } from '../../src/testing/index.js'
import { collect } from '../helpers.js'
import type { SseStep } from './fake-openai-server.js'
import { httpErrorReplies } from './wire-script.js'
import { useFakeOpenAIServer } from './use-fake-server.js'

const server = useFakeOpenAIServer({ quiet: true })

const head = { id: 'chatcmpl-9', object: 'chat.completion.chunk', created: 1694268190, model: 'gpt-4o-mini' }
const chunk = (delta: object, finishReason: string | null = null): SseStep => ({
  data: { ...head, choices: [{ index: 0, delta, logprobs: null, finish_reason: finishReason }] },
})
const words = (...pieces: string[]): SseStep[] => [chunk({ role: 'assistant', content: '' }), ...pieces.map((content) => chunk({ content }))]
const answer = (...pieces: string[]): { stream: SseStep[] } => ({ stream: [...words(...pieces), chunk({}, 'stop'), { done: true }] })

async function runOnce(retry: RetryPolicy = { baseDelayMs: 1 }, timeouts: { firstChunkTimeoutMs?: number; idleTimeoutMs?: number } = {}): Promise<{ runtime: Runtime; events: RunEvent[]; runId: string }> {
  const runtime = await Runtime.open({
    logger: silentLogger,
    // The client's own timeout is far off: only the route's stream timeouts can end a stalled attempt.
    providers: { openai: openaiProvider({ apiKey: 'sk-test', baseURL: server.baseURL, timeout: 600_000 }) },
    routes: { default: { provider: 'openai', model: 'gpt-4o-mini', retry, ...timeouts } },
  })
  const run = await runtime.createRun({ input: 'Say hello' })
  await run.result()
  return { runtime, events: await collect(runtime.runEvents(run.id)), runId: run.id }
}

/** The text a reader shows when it honours `discard_after_seq`: deltas of a failed attempt are dropped. */
function shownText(events: readonly RunEvent[]): string {
  const shown: RunEvent[] = []
  for (const event of events) {
    if (event.type === 'model.retry' || event.type === 'run.resumed') {
      const after = event.data.discard_after_seq
      while (shown.length > 0 && (shown.at(-1) as RunEvent).seq > after) shown.pop()
    }
    shown.push(event)
  }
  return shown.map((event) => (event.type === 'message.delta' && event.data.channel === 'text' ? event.data.content : '')).join('')
}

const retries = (events: readonly RunEvent[]) => events.filter((event) => event.type === 'model.retry').map((event) => event.data)

describe('the loop retries a failed model turn', () => {
  it('waits what a 429 asks (retry-after-ms), then succeeds', async () => {
    server.enqueue({ ...httpErrorReplies['provider.rate_limited'], headers: { 'retry-after-ms': '40' } }, answer('Hello'))
    const { runtime, events, runId } = await runOnce()
    expect(await runtime.getRun(runId)).toMatchObject({ status: 'completed', content: 'Hello' })
    expect(retries(events)).toEqual([{ attempt: 1, delay_ms: 40, error: { code: 'provider.rate_limited', message: expect.stringContaining('HTTP 429') }, discard_after_seq: 1 }])
    expect(server.requests).toHaveLength(2)
    // The client itself retried nothing: one request per attempt.
    expect(server.requests.map((request) => request.headers['x-stainless-retry-count'])).toEqual(['0', '0'])
    await runtime.close()
  })

  it('takes two 500s, then succeeds: exactly two retries, the failed attempts not counted', async () => {
    server.enqueue(httpErrorReplies['provider.unavailable'], { status: 500, body: { error: { message: 'boom', type: 'server_error', code: null } } }, answer('Hel', 'lo'))
    const { runtime, events, runId } = await runOnce()
    expect(retries(events).map((retry) => [retry.attempt, retry.error.code])).toEqual([
      [1, 'provider.unavailable'],
      [2, 'provider.unavailable'],
    ])
    const run = await runtime.getRun(runId)
    expect(run).toMatchObject({ status: 'completed', content: 'Hello' })
    expect(run.messages.filter((message) => message.role === 'assistant')).toHaveLength(1)
    await runtime.close()
  })

  it('takes a stream cut after some chunks, then succeeds: the content is exact, and a reader that honours the discard shows no repeat', async () => {
    server.enqueue({ stream: [...words('Hello', ' wor'), { cut: true }] }, answer('Hello', ' world'))
    const { runtime, events, runId } = await runOnce()
    const run = await runtime.getRun(runId)
    expect(run).toMatchObject({ status: 'completed', content: 'Hello world' })
    expect(retries(events)).toMatchObject([{ attempt: 1, error: { code: 'provider.unavailable' }, discard_after_seq: 1 }])
    expect(shownText(events)).toBe('Hello world')
    // Every delta is kept in the log: without the discard a reader would repeat the cut attempt's text.
    expect(events.filter((event) => event.type === 'message.delta').map((event) => (event.data as { content: string }).content).join('')).toBe('Hello worHello world')
    await runtime.close()
  })

  it('never retries provider.auth or provider.bad_request', async () => {
    for (const code of ['provider.auth', 'provider.bad_request'] as const) {
      server.reset()
      server.enqueue(httpErrorReplies[code], answer('never'))
      const { runtime, events, runId } = await runOnce()
      expect(await runtime.getRun(runId)).toMatchObject({ status: 'failed', error: { code } })
      expect(retries(events)).toEqual([])
      expect(server.requests).toHaveLength(1)
      await runtime.close()
    }
  })

  it('fails with the last error once maxAttempts (the first included) are spent', async () => {
    server.setDefault(() => httpErrorReplies['provider.unavailable'])
    const { runtime, events, runId } = await runOnce({ maxAttempts: 3, baseDelayMs: 1 })
    expect(await runtime.getRun(runId)).toMatchObject({ status: 'failed', error: { code: 'provider.unavailable' } })
    expect(retries(events).map((retry) => retry.attempt)).toEqual([1, 2])
    expect(server.requests).toHaveLength(3)
    await runtime.close()
  })
})

describe('stream timeouts', () => {
  it('ends a stream that stalls mid-way after idleTimeoutMs with provider.timeout, and the retry succeeds', async () => {
    server.enqueue({ stream: [...words('Hel'), { stall: true }] }, answer('Hello'))
    const { runtime, events, runId } = await runOnce({ baseDelayMs: 1 }, { idleTimeoutMs: 100 })
    expect(await runtime.getRun(runId)).toMatchObject({ status: 'completed', content: 'Hello' })
    expect(retries(events)).toMatchObject([{ attempt: 1, error: { code: 'provider.timeout', message: expect.stringContaining('sent nothing for 100 ms mid-stream') } }])
    // The stalled request was abandoned: its connection closed by the client.
    expect((await server.waitForClientClose()).path).toBe('/v1/chat/completions')
    expect(shownText(events)).toBe('Hello')
    await runtime.close()
  })

  it('fails a request that gets no first chunk within firstChunkTimeoutMs, on every attempt', async () => {
    server.setDefault(() => ({ hang: true }))
    const { runtime, events, runId } = await runOnce({ maxAttempts: 2, baseDelayMs: 1 }, { firstChunkTimeoutMs: 80 })
    expect(await runtime.getRun(runId)).toMatchObject({ status: 'failed', error: { code: 'provider.timeout', message: expect.stringContaining('no first chunk within 80 ms') } })
    expect(retries(events)).toHaveLength(1)
    expect(server.requests).toHaveLength(2)
    await runtime.close()
  })
})

describe('a timeout hands the run a new signal', () => {
  it('keeps cancel working after a stream timed out: a cancel during the backoff ends the run at once', async () => {
    // The first attempt never sends a chunk; its retry would wait up to ten minutes.
    const model = scriptedModel(() => [{ delay: 600_000 }])
    const runtime = await Runtime.open({
      logger: silentLogger,
      providers: { scripted: model },
      routes: { default: { provider: 'scripted', model: 'm', firstChunkTimeoutMs: 40, retry: { baseDelayMs: 600_000, maxDelayMs: 600_000 } } },
    })
    const run = await runtime.createRun({ input: 'go' })
    for await (const event of run.events()) if (event.type === 'model.retry') break
    await runtime.cancelRun(run.id, { reason: 'enough' })
    expect(await run.result()).toMatchObject({ status: 'cancelled' })
    const types = (await collect(runtime.runEvents(run.id))).map((event) => event.type)
    expect(types[0]).toBe('run.started')
    expect(types.at(-1)).toBe('run.cancelled')
    expect(types).toContain('model.retry')
    await runtime.close()
  })
})

describe('backoffMs', () => {
  const retry = { maxAttempts: 4, baseDelayMs: 100, maxDelayMs: 1000 }
  it('waits a random time up to base x 2^(attempt - 1), capped (full jitter)', () => {
    expect(backoffMs(retry, 1, undefined, () => 0.999)).toBe(100)
    expect(backoffMs(retry, 3, undefined, () => 0.5)).toBe(200)
    expect(backoffMs(retry, 9, undefined, () => 1)).toBe(1000)
    expect(backoffMs(retry, 2, undefined, () => 0)).toBe(0)
  })

  it('waits a Retry-After instead, at most maxDelayMs', () => {
    expect(backoffMs(retry, 1, 250, () => 0)).toBe(250)
    expect(backoffMs(retry, 1, 60_000, () => 0)).toBe(1000)
  })
})

describe('a route’s retry option', () => {
  it('is checked when the runtime opens', async () => {
    const open = (retry: unknown) => Runtime.open({ providers: { scripted: scriptedModel([]) }, routes: { default: { provider: 'scripted', model: 'm', retry: retry as RetryPolicy } } })
    await expect(open({ maxAttempts: 0 })).rejects.toMatchObject({ code: 'validation.invalid', message: 'Expected `routes.default.retry.maxAttempts` to be an integer from 1, got `0`' })
    await expect(open({ baseDelayMs: -1 })).rejects.toMatchObject({ message: 'Expected `routes.default.retry.baseDelayMs` to be an integer from 0, got `-1`' })
    await expect(open({ maxDelayMs: 1.5 })).rejects.toMatchObject({ code: 'validation.invalid' })
    await expect(open('often')).rejects.toMatchObject({ message: 'Expected `routes.default.retry` to be an object' })
    const timeouts = (value: unknown) =>
      Runtime.open({ providers: { scripted: scriptedModel([]) }, routes: { default: { provider: 'scripted', model: 'm', idleTimeoutMs: value as number } } })
    await expect(timeouts(-5)).rejects.toMatchObject({ message: 'Expected `routes.default.idleTimeoutMs` to be an integer from 0, got `-5`' })
    await expect(timeouts('1s')).rejects.toMatchObject({ code: 'validation.invalid' })
    const runtime = await open({ maxAttempts: 1 })
    await runtime.close()
  })

  it('passes each attempt’s number to the provider, and maxAttempts: 1 never retries', async () => {
    const attempts: number[] = []
    const model = scriptedModel((_request, _index, attempt) => {
      attempts.push(attempt)
      return attempt < 2 ? [{ error: { code: 'provider.timeout' } }] : [{ text: 'ok' }]
    })
    const runtime = await Runtime.open({ logger: silentLogger, providers: { scripted: model }, routes: { default: { provider: 'scripted', model: 'm', retry: { baseDelayMs: 0 } } } })
    expect(await (await runtime.createRun({ input: 'go' })).result()).toMatchObject({ status: 'completed', content: 'ok' })
    expect(attempts).toEqual([1, 2])
    await runtime.close()
    attempts.length = 0
    const once = await Runtime.open({ logger: silentLogger, providers: { scripted: model }, routes: { default: { provider: 'scripted', model: 'm', retry: { maxAttempts: 1 } } } })
    expect(await (await once.createRun({ input: 'go' })).result()).toMatchObject({ status: 'failed', error: { code: 'provider.timeout' } })
    expect(attempts).toEqual([1])
    await once.close()
  })
})
