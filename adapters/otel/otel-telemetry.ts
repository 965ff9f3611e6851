/**
 * OpenTelemetry spans of runs, made from the events the runtime commits,
 * following the GenAI semantic conventions: `invoke_agent {agent}` per run,
 * `chat {model}` per model turn, `execute_tool {name}` per tool call. Each
 * span takes its times from the events, so it shows what the log shows; the
 * run's `traceId` is the trace id of all of them. A run resumed after a
 * crash gets a new `invoke_agent` span in the same trace, `hearth.resumed`
 * true. Retries and fallbacks are span events of the turn's `chat` span.
 */
import type { Attributes, Context, Span, Tracer, TracerProvider } from '@opentelemetry/api'
import type { RunEvent } from '../../src/events.js'
import { loadPeer } from '../../src/optional-peer.js'
import { rootSpanId, type Telemetry, type TelemetryRun } from '../../src/telemetry.js'

type OtelApi = typeof import('@opentelemetry/api')

/** Options of {@link otelTelemetry}. */
export interface OtelTelemetryOptions {
  /** Where spans go. @default the global tracer provider (`trace.getTracerProvider()`) */
  tracerProvider?: TracerProvider
  /**
   * The most runs whose spans are open at once; past it, the run whose spans
   * opened longest ago has them ended (a run waiting for days does not hold
   * memory for ever).
   * @default 10000
   */
  maxOpenRuns?: number
}

/** The open spans of one run in this process. */
interface RunSpans {
  span: Span
  context: Context
  /** When the next model turn began (its `chat` span's start). */
  turnStart: number
  /** Retries and fallbacks of the turn under way, for its `chat` span. */
  turnEvents: { name: string; attributes: Attributes; time: number }[]
  tools: Map<string, Span>
}

/** The agent's key of a `key@version`. */
const agentKey = (personaId: string): string => personaId.slice(0, personaId.lastIndexOf('@') === -1 ? undefined : personaId.lastIndexOf('@'))

class OtelTelemetry implements Telemetry {
  readonly #options: OtelTelemetryOptions
  readonly #runs = new Map<string, RunSpans>()
  readonly #maxOpenRuns: number
  #api: OtelApi | undefined
  #tracer: Tracer | undefined

  constructor(options: OtelTelemetryOptions) {
    this.#options = options
    const max = options.maxOpenRuns ?? 10_000
    if (!Number.isSafeInteger(max) || max < 1) throw new TypeError(`Expected \`maxOpenRuns\` to be a positive integer, got \`${String(options.maxOpenRuns)}\``)
    this.#maxOpenRuns = max
  }

  async open(): Promise<void> {
    const api = await loadPeer<OtelApi>('@opentelemetry/api', { subpath: 'hearth-runtime/otel', install: '@opentelemetry/api@1' })
    this.#api = api
    this.#tracer = (this.#options.tracerProvider ?? api.trace.getTracerProvider()).getTracer('hearth-runtime')
  }

  onEvents(events: readonly RunEvent[], run: TelemetryRun | undefined): void {
    try {
      for (const event of events) this.#apply(event, run)
    } catch {
      // Telemetry never breaks a run.
    }
  }

  async close(): Promise<void> {
    for (const [runId, spans] of this.#runs) this.#end(runId, spans, Date.now(), { 'hearth.closed': true })
  }

  #apply(event: RunEvent, run: TelemetryRun | undefined): void {
    const time = Date.parse(event.createdAt)
    let spans = this.#runs.get(event.runId)
    switch (event.type) {
      case 'run.started':
        spans = this.#startRun(event, run, time, false, { 'gen_ai.agent.id': event.data.persona_id, 'gen_ai.request.model': event.data.model, 'gen_ai.provider.name': event.data.model_provider })
        return
      case 'run.resumed':
        if (spans === undefined) spans = this.#startRun(event, run, time, true, {})
        if (spans !== undefined) {
          spans.span.addEvent('hearth.resumed', { reason: event.data.reason }, time)
          spans.turnStart = time
        }
        return
      default:
        break
    }
    if (spans === undefined) return
    switch (event.type) {
      case 'message.completed': {
        const data = event.data
        const model = data.model ?? run?.model ?? 'unknown'
        const turn = this.#child(spans, `chat ${model}`, spans.turnStart, {
          'gen_ai.operation.name': 'chat',
          'gen_ai.request.model': model,
          'gen_ai.usage.input_tokens': data.usage.input_tokens,
          'gen_ai.usage.output_tokens': data.usage.output_tokens,
          'gen_ai.response.finish_reasons': [data.tool_calls.length > 0 ? 'tool_calls' : 'stop'],
          ...(data.route_id === undefined ? {} : { 'hearth.route_id': data.route_id }),
        })
        for (const retry of spans.turnEvents) turn.addEvent(retry.name, retry.attributes, retry.time)
        spans.turnEvents = []
        turn.end(time)
        spans.turnStart = time
        return
      }
      case 'model.retry':
        spans.turnEvents.push({ name: 'gen_ai.retry', attributes: { attempt: event.data.attempt, 'error.type': event.data.error.code, 'hearth.delay_ms': event.data.delay_ms }, time })
        return
      case 'model.fallback':
        spans.turnEvents.push({ name: 'gen_ai.fallback', attributes: { 'hearth.from_route_id': event.data.from_route_id, 'hearth.to_route_id': event.data.to_route_id, 'error.type': event.data.error.code }, time })
        return
      case 'tool.call': {
        const { tool_call_id, name } = event.data
        spans.tools.set(tool_call_id, this.#child(spans, `execute_tool ${name}`, time, { 'gen_ai.operation.name': 'execute_tool', 'gen_ai.tool.name': name, 'gen_ai.tool.call.id': tool_call_id }))
        return
      }
      case 'tool.result': {
        const span = spans.tools.get(event.data.tool_call_id)
        if (span === undefined) return
        spans.tools.delete(event.data.tool_call_id)
        if (event.data.is_error) this.#fail(span, event.data.error_code ?? 'tool.failed', typeof event.data.output === 'string' ? event.data.output : JSON.stringify(event.data.output))
        span.end(time)
        spans.turnStart = time
        return
      }
      case 'run.input_received':
      case 'subrun.completed':
        spans.turnStart = time
        return
      case 'run.completed': {
        const { metrics } = event.data
        this.#end(event.runId, spans, time, { 'gen_ai.usage.input_tokens': metrics.input_tokens, 'gen_ai.usage.output_tokens': metrics.output_tokens })
        return
      }
      case 'run.failed': {
        const { code, message } = event.data.error
        // The turn under way when it failed (its retries spent) is a chat span with the error.
        if (spans.turnEvents.length > 0 || code.startsWith('provider.')) {
          const model = run?.model ?? 'unknown'
          const turn = this.#child(spans, `chat ${model}`, spans.turnStart, { 'gen_ai.operation.name': 'chat', 'gen_ai.request.model': model })
          for (const retry of spans.turnEvents) turn.addEvent(retry.name, retry.attributes, retry.time)
          this.#fail(turn, code, message)
          turn.end(time)
        }
        this.#fail(spans.span, code, message)
        this.#end(event.runId, spans, time, {})
        return
      }
      case 'run.cancelled':
        this.#end(event.runId, spans, time, { 'hearth.cancelled': true, 'hearth.cancel_reason': event.data.reason })
        return
      default:
        return
    }
  }

  #startRun(event: RunEvent, run: TelemetryRun | undefined, time: number, resumed: boolean, attributes: Attributes): RunSpans | undefined {
    const api = this.#api
    const tracer = this.#tracer
    if (api === undefined || tracer === undefined || run === undefined) return undefined
    const previous = this.#runs.get(event.runId)
    if (previous !== undefined) this.#end(event.runId, previous, time, {})
    const parent = this.#parentOf(api, run)
    const key = agentKey(run.personaId)
    const span = tracer.startSpan(
      `invoke_agent ${key}`,
      {
        kind: api.SpanKind.INTERNAL,
        startTime: time,
        attributes: {
          'gen_ai.operation.name': 'invoke_agent',
          'gen_ai.agent.name': key,
          'gen_ai.agent.id': run.personaId,
          'gen_ai.request.model': run.model,
          'gen_ai.provider.name': run.modelProvider,
          'gen_ai.conversation.id': run.sessionId,
          'hearth.run_id': run.id,
          'hearth.org_id': run.orgId,
          'hearth.resumed': resumed,
          ...(run.parentRunId === null ? {} : { 'hearth.parent_run_id': run.parentRunId }),
          ...attributes,
        },
      },
      parent,
    )
    const spans: RunSpans = { span, context: api.trace.setSpan(api.context.active(), span), turnStart: time, turnEvents: [], tools: new Map() }
    this.#runs.set(event.runId, spans)
    if (this.#runs.size > this.#maxOpenRuns) {
      const [oldest, open] = this.#runs.entries().next().value as [string, RunSpans]
      this.#end(oldest, open, time, { 'hearth.evicted': true })
    }
    return spans
  }

  /**
   * The parent of a run's span: the parent run's tool span when that run is
   * open here (a child run), else a remote parent in the run's trace, whose
   * span id is made from the trace id (the same in every process).
   */
  #parentOf(api: OtelApi, run: TelemetryRun): Context {
    if (run.parentRunId !== null && run.parentToolCallId !== null) {
      const parent = this.#runs.get(run.parentRunId)
      const tool = parent?.tools.get(run.parentToolCallId)
      if (parent !== undefined) return tool === undefined ? parent.context : api.trace.setSpan(parent.context, tool)
    }
    return api.trace.setSpanContext(api.context.active(), { traceId: run.traceId, spanId: rootSpanId(run.traceId), traceFlags: api.TraceFlags.SAMPLED, isRemote: true })
  }

  #child(spans: RunSpans, name: string, start: number, attributes: Attributes): Span {
    const api = this.#api as OtelApi
    return (this.#tracer as Tracer).startSpan(name, { kind: api.SpanKind.CLIENT, startTime: start, attributes }, spans.context)
  }

  #fail(span: Span, code: string, message: string): void {
    const api = this.#api as OtelApi
    span.setStatus({ code: api.SpanStatusCode.ERROR, message })
    span.setAttribute('error.type', code)
    span.addEvent('exception', { 'exception.type': code, 'exception.message': message })
  }

  #end(runId: string, spans: RunSpans, time: number, attributes: Attributes): void {
    this.#runs.delete(runId)
    for (const tool of spans.tools.values()) tool.end(time)
    spans.span.setAttributes(attributes)
    spans.span.end(time)
  }
}

/**
 * OpenTelemetry spans of every run this runtime executes
 * (`Runtime.open({ telemetry: otelTelemetry() })`). Needs the optional peer
 * `@opentelemetry/api` (1.x); without it `Runtime.open` fails with
 * `dependency.missing`.
 */
export function otelTelemetry(options: OtelTelemetryOptions = {}): Telemetry {
  if (typeof options !== 'object' || options === null) throw new TypeError('Expected `options` to be an object')
  return new OtelTelemetry(options)
}
