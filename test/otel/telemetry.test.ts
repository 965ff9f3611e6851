/**
 * hearth-runtime/otel with OpenTelemetry's own SDK and its in-memory span
 * exporter: the span tree of a tool run, of a failed run with retries, of a
 * run resumed by another runtime after a close, and of a run created over
 * HTTP with an incoming `traceparent`.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base'
import { memoryStore, Runtime, type Store } from 'hearth-runtime'
import { createHttpHandler } from 'hearth-runtime/http'
import { otelTelemetry } from 'hearth-runtime/otel'
import { sqliteStore } from 'hearth-runtime/sqlite'
import { callTools, reply, scriptedModel, type ScriptedTurn } from 'hearth-runtime/testing'
import { addTool } from '../helpers.js'

const directory = mkdtempSync(join(tmpdir(), 'hearth-otel-'))
afterAll(() => rmSync(directory, { recursive: true, force: true }))

function tracing() {
  const exporter = new InMemorySpanExporter()
  const tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] })
  return { exporter, tracerProvider, telemetry: otelTelemetry({ tracerProvider }) }
}

async function open(script: readonly ScriptedTurn[], store: Store = memoryStore(), traced = tracing()) {
  const runtime = await Runtime.open({
    store,
    telemetry: traced.telemetry,
    providers: { scripted: scriptedModel(script) },
    routes: { default: { provider: 'scripted', model: 'test-model', retry: { maxAttempts: 2, baseDelayMs: 1, maxDelayMs: 2 } } },
    agents: [{ key: 'assistant', version: 1, tools: [addTool] }],
  })
  return { runtime, ...traced }
}

const named = (spans: readonly ReadableSpan[], name: string): ReadableSpan[] => spans.filter((span) => span.name === name)
const parentOf = (span: ReadableSpan): string | undefined => span.parentSpanContext?.spanId

describe('otelTelemetry', () => {
  it('traces a tool run: invoke_agent over two chat turns and one execute_tool, in the run’s trace, with the GenAI attributes', async () => {
    const { runtime, exporter } = await open([[...callTools({ name: 'add', arguments: { a: 2, b: 3 } }), { usage: { inputTokens: 10, outputTokens: 4 } }], [...reply('5'), { usage: { inputTokens: 20, outputTokens: 1 } }]])
    const run = await runtime.createRun({ input: 'add 2 and 3' })
    const done = await run.result()
    await runtime.close()
    const spans = exporter.getFinishedSpans()
    expect(spans.map((span) => span.name).sort()).toEqual(['chat test-model', 'chat test-model', 'execute_tool add', 'invoke_agent assistant'])
    for (const span of spans) expect(span.spanContext().traceId).toBe(done.traceId)
    const [agent] = named(spans, 'invoke_agent assistant') as [ReadableSpan]
    expect(parentOf(agent)).toBe(done.traceId.slice(16))
    expect(agent.attributes).toMatchObject({
      'gen_ai.operation.name': 'invoke_agent',
      'gen_ai.agent.name': 'assistant',
      'gen_ai.agent.id': 'assistant@1',
      'gen_ai.request.model': 'test-model',
      'gen_ai.conversation.id': done.sessionId,
      'gen_ai.usage.input_tokens': 30,
      'gen_ai.usage.output_tokens': 5,
      'hearth.run_id': done.id,
      'hearth.resumed': false,
    })
    const turns = named(spans, 'chat test-model').sort((a, b) => (a.startTime[0] - b.startTime[0]) * 1e9 + (a.startTime[1] - b.startTime[1]))
    expect(turns.map((turn) => turn.attributes['gen_ai.response.finish_reasons'])).toEqual([['tool_calls'], ['stop']])
    expect(turns.map((turn) => [turn.attributes['gen_ai.usage.input_tokens'], turn.attributes['gen_ai.usage.output_tokens']])).toEqual([[10, 4], [20, 1]])
    const [tool] = named(spans, 'execute_tool add') as [ReadableSpan]
    expect(tool.attributes).toMatchObject({ 'gen_ai.operation.name': 'execute_tool', 'gen_ai.tool.name': 'add' })
    for (const child of [...turns, tool]) expect(parentOf(child)).toBe(agent.spanContext().spanId)
    expect(agent.status.code).toBe(0)
  })

  it('records a failed run’s error on its span and its turn’s, the retry as a span event', async () => {
    const failing: ScriptedTurn = [{ error: { code: 'provider.unavailable', message: 'down' } }]
    const { runtime, exporter } = await open([failing, failing])
    const run = await runtime.createRun({ input: 'hi' })
    expect((await run.result()).status).toBe('failed')
    await runtime.close()
    const spans = exporter.getFinishedSpans()
    const [agent] = named(spans, 'invoke_agent assistant') as [ReadableSpan]
    expect(agent.status).toMatchObject({ code: 2, message: 'down' })
    expect(agent.attributes['error.type']).toBe('provider.unavailable')
    const [turn] = named(spans, 'chat test-model') as [ReadableSpan]
    expect(turn.status.code).toBe(2)
    expect(turn.events.map((event) => event.name)).toEqual(['gen_ai.retry', 'exception'])
    expect(parentOf(turn)).toBe(agent.spanContext().spanId)
  })

  it('continues a run resumed by another runtime in the same trace, hearth.resumed true', async () => {
    const path = join(directory, 'resumed.db')
    const first = await open([[{ delay: 600_000 }, { text: 'never' }]], sqliteStore({ path }))
    const run = await first.runtime.createRun({ input: 'hi' })
    for await (const event of run.events()) if (event.type === 'run.started') break
    await first.runtime.close()
    const closed = named(first.exporter.getFinishedSpans(), 'invoke_agent assistant')
    expect(closed.map((span) => span.attributes['hearth.closed'])).toEqual([true])

    const second = await open([reply('hello')], sqliteStore({ path }))
    const done = await second.runtime.getRun(run.id)
    for await (const event of second.runtime.runEvents(run.id)) if (event.type === 'run.completed') break
    await second.runtime.close()
    const [resumed] = named(second.exporter.getFinishedSpans(), 'invoke_agent assistant') as [ReadableSpan]
    expect(resumed.spanContext().traceId).toBe(done.traceId)
    expect(resumed.spanContext().traceId).toBe((closed[0] as ReadableSpan).spanContext().traceId)
    expect(resumed.attributes['hearth.resumed']).toBe(true)
    expect(resumed.events.map((event) => event.name)).toContain('hearth.resumed')
    expect(named(second.exporter.getFinishedSpans(), 'chat test-model')).toHaveLength(1)
  })

  it('takes an incoming traceparent over HTTP (over X-Trace-Id) and answers the run’s traceparent', async () => {
    const { runtime, exporter } = await open([reply('hi')])
    const handler = createHttpHandler(runtime)
    const thread = (await (await handler(new Request('http://local/v1/threads', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{}' }))).json()) as { id: string }
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736'
    const created = await handler(
      new Request(`http://local/v1/threads/${thread.id}/runs`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', traceparent: `00-${traceId}-00f067aa0ba902b7-01`, 'X-Trace-Id': 'ffffffffffffffffffffffffffffffff' },
        body: JSON.stringify({ input: 'hi' }),
      }),
    )
    expect(created.status).toBe(201)
    const body = (await created.json()) as { run_id: string; trace_id: string }
    expect(body.trace_id).toBe(traceId)
    expect(created.headers.get('traceparent')).toBe(`00-${traceId}-${traceId.slice(16)}-01`)
    for await (const event of runtime.runEvents(body.run_id)) if (event.type === 'run.completed') break
    // A traceparent that is not W3C's is ignored: X-Trace-Id then names the trace.
    const fallback = await handler(
      new Request(`http://local/v1/threads/${thread.id}/runs`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', traceparent: `00-${'0'.repeat(32)}-00f067aa0ba902b7-01`, 'X-Trace-Id': 'abcdefabcdefabcdefabcdefabcdefab' },
        body: JSON.stringify({ input: 'hi' }),
      }),
    )
    expect(((await fallback.json()) as { trace_id: string }).trace_id).toBe('abcdefabcdefabcdefabcdefabcdefab')
    await runtime.close()
    expect(named(exporter.getFinishedSpans(), 'invoke_agent assistant').map((span) => span.spanContext().traceId)).toContain(traceId)
  })
})
