/**
 * hearth-runtime/otel: OpenTelemetry traces of runs, following the GenAI
 * semantic conventions. Needs `@opentelemetry/api` 1.x (an optional peer).
 *
 *   import { otelTelemetry } from 'hearth-runtime/otel'
 *   const runtime = await Runtime.open({ telemetry: otelTelemetry() })
 */
export { otelTelemetry } from './otel-telemetry.js'
export type { OtelTelemetryOptions } from './otel-telemetry.js'
