import { describe, expect, it } from 'vitest'
import { z } from 'zod'
import { Runtime, silentLogger, tool, type Tool } from '../../src/index.js'
import { callTools, reply, scriptedModel } from '../../src/testing/index.js'
import { collect } from '../helpers.js'

async function runWith(tools: Tool[], calls: { name: string; id: string }[]) {
  const model = scriptedModel([callTools(...calls.map((call) => ({ ...call, arguments: {} }))), reply('done')])
  const runtime = await Runtime.open({ logger: silentLogger, model, agents: [{ key: 'worker', version: 1, tools }] })
  const run = await runtime.createRun({ input: 'go' })
  const done = await run.result()
  const results = (await collect(runtime.runEvents(run.id))).filter((event) => event.type === 'tool.result').map((event) => event.data)
  await runtime.close()
  return { done, results, requests: model.requests }
}

describe('tool timeouts', () => {
  it('aborts a call past its timeoutMs, gives the model tool.timeout, and drops the late result', async () => {
    let aborted: unknown
    const hang = tool({
      name: 'hang',
      input: z.object({}),
      timeoutMs: 40,
      execute: async (_args, { signal }) => {
        signal.addEventListener('abort', () => (aborted = signal.reason))
        // Ignores its signal: the late answer must not reach the model.
        await new Promise((resolve) => setTimeout(resolve, 150))
        return 'late'
      },
    })
    const { done, results, requests } = await runWith([hang], [{ name: 'hang', id: 'h1' }])
    expect(done).toMatchObject({ status: 'completed', content: 'done' })
    expect(results).toEqual([{ tool_call_id: 'h1', name: 'hang', output: 'hang did not finish within 40 ms', is_error: true, error_code: 'tool.timeout' }])
    expect(aborted).toMatchObject({ code: 'tool.timeout' })
    expect(requests.at(-1)?.messages.at(-1)).toMatchObject({ role: 'tool', content: 'hang did not finish within 40 ms' })
  })

  it('waits for ever with timeoutMs: 0, and a call within its time answers as usual', async () => {
    const slow = (name: string, timeoutMs: number) =>
      tool({ name, input: z.object({}), timeoutMs, execute: () => new Promise((resolve) => setTimeout(() => resolve(`${name} ok`), 60)) })
    const { results } = await runWith([slow('patient', 0), slow('roomy', 10_000), slow('hasty', 20)], [
      { name: 'patient', id: 'p' },
      { name: 'roomy', id: 'r' },
      { name: 'hasty', id: 'h' },
    ])
    expect(results.map((result) => [result.tool_call_id, result.is_error, result.error_code ?? null])).toEqual([
      ['h', true, 'tool.timeout'],
      ['p', false, null],
      ['r', false, null],
    ])
    expect(tool({ name: 'plain', input: z.object({}), execute: () => 1 }).timeoutMs).toBe(300_000)
  })
})

describe('tool retries', () => {
  it('runs an idempotent tool again after it threw or timed out, up to its retries', async () => {
    let calls = 0
    const flaky = tool({
      name: 'flaky',
      input: z.object({}),
      idempotent: true,
      retries: 2,
      timeoutMs: 30,
      execute: async () => {
        calls++
        if (calls === 1) throw new Error('first call fails')
        if (calls === 2) await new Promise((resolve) => setTimeout(resolve, 100))
        return `answered at call ${calls}`
      },
    })
    const { results } = await runWith([flaky], [{ name: 'flaky', id: 'f' }])
    expect(results).toEqual([{ tool_call_id: 'f', name: 'flaky', output: 'answered at call 3', is_error: false }])
    expect(calls).toBe(3)
  })

  it('gives up after its retries with the last failure, and runs a tool without retries once', async () => {
    let counted = 0
    let once = 0
    const failing = tool({ name: 'failing', input: z.object({}), idempotent: true, retries: 1, execute: () => { counted++; throw new Error(`failure ${counted}`) } })
    const single = tool({ name: 'single', input: z.object({}), idempotent: true, execute: () => { once++; throw new Error('no second chance') } })
    const { results } = await runWith([failing, single], [{ name: 'failing', id: 'a' }, { name: 'single', id: 'b' }])
    expect(results).toEqual(expect.arrayContaining([
      { tool_call_id: 'a', name: 'failing', output: 'failure 2', is_error: true, error_code: 'tool.failed' },
      { tool_call_id: 'b', name: 'single', output: 'no second chance', is_error: true, error_code: 'tool.failed' },
    ]))
    expect([counted, once]).toEqual([2, 1])
  })

  it('refuses retries on a tool that is not idempotent, and bad numbers', () => {
    expect(() => tool({ name: 'charge', input: z.object({}), retries: 1, execute: () => 1 })).toThrow(/sets `retries` but is not `idempotent`/)
    expect(() => tool({ name: 'x', input: z.object({}), timeoutMs: -1, execute: () => 1 })).toThrow('Expected `timeoutMs` of tool `x` to be an integer from 0, got `-1`')
    expect(() => tool({ name: 'x', input: z.object({}), idempotent: true, retries: 1.5, execute: () => 1 })).toThrow(TypeError)
  })
})
