/**
 * The hook a tracing adapter (`hearth-runtime/otel`) plugs into: the runtime
 * hands it every batch of events it commits, in order, once, with the run
 * they belong to, right after they are committed. Without one the runtime
 * pays a single check per batch.
 */
import type { EventHub } from './event-stream.js'
import type { RunEvent } from './events.js'
import type { Run } from './store.js'

/** What a run's telemetry knows of it besides its events. */
export type TelemetryRun = Pick<Run, 'id' | 'sessionId' | 'orgId' | 'traceId' | 'personaId' | 'routeId' | 'model' | 'modelProvider' | 'parentRunId' | 'parentToolCallId'>

/** A tracing adapter (`Runtime.open({ telemetry })`). */
export interface Telemetry {
  /** Called once by `Runtime.open`, before any run: load what it needs (a missing peer fails the open). @default nothing */
  open?(): Promise<void>
  /**
   * The events of one run this runtime just committed, in seq order, with
   * the run (undefined when this runtime no longer holds it). Must return
   * quickly and never throw: it runs on the path of every commit.
   */
  onEvents(events: readonly RunEvent[], run: TelemetryRun | undefined): void
  /** Called by `Runtime.close`: end what is open and flush. @default nothing */
  close?(): Promise<void>
}

/** Checks a `telemetry` option. */
export function checkTelemetry(value: unknown): Telemetry | undefined {
  if (value === undefined) return undefined
  if (typeof value !== 'object' || value === null || typeof (value as Telemetry).onEvents !== 'function') {
    throw new TypeError('Expected `telemetry` to be a Telemetry, such as otelTelemetry() from hearth-runtime/otel')
  }
  return value as Telemetry
}

/** Hands the hub's committed batches to `telemetry`, with the run `lookup` finds. */
export function attachTelemetry(hub: EventHub, telemetry: Telemetry, lookup: (runId: string) => TelemetryRun | undefined): void {
  hub.observer = (events) => {
    const first = events[0]
    if (first !== undefined) telemetry.onEvents(events, lookup(first.runId))
  }
}

/**
 * The span id a run's spans hang under when nothing in this process is
 * their parent: made from the trace id (its last 16 hex digits, never all
 * zeros), so every process gives the same, and the HTTP adapter can name it
 * in the `traceparent` it answers.
 */
export function rootSpanId(traceId: string): string {
  const tail = traceId.slice(16)
  return /^0+$/.test(tail) ? '0000000000000001' : tail
}
