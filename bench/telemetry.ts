/**
 * Telemetry: what tracing costs a run, on the memory store, one run at a
 * time (a tool call, then a 20-delta answer), in the same process run:
 *
 * - none: `Runtime.open` without `telemetry` (the hot path's only cost is
 *   one check per committed batch);
 * - otel, no SDK: `otelTelemetry()` over the global tracer provider, a no-op
 *   without an SDK (spans made and dropped);
 * - otel, SDK: `otelTelemetry()` over OpenTelemetry's BasicTracerProvider
 *   with a span processor that drops what it gets (spans made, recorded and
 *   ended for real).
 *
 * Medians of 7 alternated rounds after one warm-up, each against `none`.
 *
 *   node --import tsx bench/telemetry.ts
 */
import { pathToFileURL } from 'node:url'
import { z } from 'zod'
import { BasicTracerProvider, NoopSpanProcessor } from '@opentelemetry/sdk-trace-base'
import { otelTelemetry } from '../adapters/otel/index.js'
import { Runtime, tool, type Telemetry } from '../src/index.js'
import { callTools, reply, scriptedModel } from '../src/testing/index.js'
import { alternate, time } from './core.js'

const usage = { inputTokens: 100, outputTokens: 20 }
const answer = Array.from({ length: 20 }, (_, index) => `word${index} `).join('')
const add = tool({ name: 'add', input: z.object({ a: z.number(), b: z.number() }), execute: ({ a, b }) => a + b })

async function open(telemetry: Telemetry | undefined): Promise<Runtime> {
  return Runtime.open({
    ...(telemetry === undefined ? {} : { telemetry }),
    providers: { model: scriptedModel([[...callTools({ name: 'add', arguments: { a: 1, b: 2 } }), { usage }], [...reply(answer, { deltas: 20 }), { usage }]]) },
    routes: { default: { provider: 'model', model: 'm' } },
    agents: [{ key: 'a', version: 1, tools: [add], historyRuns: 0 }],
  })
}

/** One row: runs a second without telemetry and with it. */
export interface TelemetryRow {
  name: string
  noneRunsPerSecond: number
  tracedRunsPerSecond: number
  /** traced - none, in ms a run. */
  addedMsPerRun: number
}

async function row(name: string, telemetry: Telemetry, runs: number): Promise<TelemetryRow> {
  const [none, traced] = await Promise.all([open(undefined), open(telemetry)])
  const unit = (runtime: Runtime) => async () => {
    const done = await (await runtime.createRun({ input: 'add' })).result()
    if (done.status !== 'completed') throw new Error(`unexpected ${done.status}`)
  }
  const { floor, hearth } = await alternate(7, () => time(runs, unit(none)), () => time(runs, unit(traced)))
  await Promise.all([none.close(), traced.close()])
  return { name, noneRunsPerSecond: (runs / floor.wallMs) * 1000, tracedRunsPerSecond: (runs / hearth.wallMs) * 1000, addedMsPerRun: (hearth.wallMs - floor.wallMs) / runs }
}

/** Both rows. */
export async function benchTelemetry(): Promise<TelemetryRow[]> {
  const sdk = new BasicTracerProvider({ spanProcessors: [new NoopSpanProcessor()] })
  return [await row('otel, no SDK (no-op tracer)', otelTelemetry(), 1000), await row('otel, SDK (spans recorded, dropped at export)', otelTelemetry({ tracerProvider: sdk }), 1000)]
}

/** The rows as lines. */
export function formatTelemetry(rows: readonly TelemetryRow[]): string {
  return [
    'Telemetry (a tool call and a 20-delta answer a run, memory store, one run at a time; beside the same runtime without telemetry):',
    ...rows.map((entry) => `  ${entry.name}: without ${entry.noneRunsPerSecond.toFixed(0)}/s, with ${entry.tracedRunsPerSecond.toFixed(0)}/s, +${entry.addedMsPerRun.toFixed(3)} ms a run`),
  ].join('\n')
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) console.log(formatTelemetry(await benchTelemetry()))
