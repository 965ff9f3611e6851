/**
 * workflow(): a plain async TypeScript function as a durable run. Each
 * `ctx.step(name, fn)` runs `fn` once and commits its JSON result
 * (`workflow.step_completed`, or `workflow.step_failed`); after a crash or a
 * restart the function runs again from the top, and every step whose
 * result is in the log returns it without running again. A step is known
 * by its position in call order and its name: code that calls another step
 * at a recorded position fails the run with `workflow.nondeterministic`.
 */
import type { z } from 'zod'
import type { AgentDefinition } from './agents.js'
import { ValidationError } from './errors.js'
import type { Json } from './events.js'

/** What a workflow's function gets besides its input. */
export interface WorkflowContext {
  readonly runId: string
  readonly sessionId: string
  /** Aborts when the run is cancelled or the runtime closes. */
  readonly signal: AbortSignal
  /**
   * Runs `fn` once, commits its result (JSON) and returns it; on a replay,
   * returns the committed result without running `fn`. A step that threw
   * throws again on a replay, with the same code and message.
   */
  step<T>(name: string, fn: () => T | Promise<T>): Promise<T>
  /**
   * Runs agent (or team) `reference` on `input` as a child run, a step of
   * its own: resolves with the child's answer (its `output`, else its
   * content); a failed or cancelled child throws `workflow.failed`. While the
   * child runs, the workflow's run gives its slot back; it goes on (replayed
   * from the top) once the child ended.
   */
  runAgent(reference: string, input: string): Promise<Json>
  /** `runAgent` for a team (`team()`): the team's run as a child step. */
  runTeam(reference: string, input: string): Promise<Json>
  /**
   * A durable sleep of `ms` milliseconds (a step): its end time is in the
   * log, so it survives a restart; meanwhile the run holds no slot.
   */
  sleep(ms: number): Promise<void>
  /**
   * Asks a person (a step): the run waits for input (`waiting_for_input`,
   * a request of kind `input` with `tool_call_id` `step_<n>`), holding no
   * slot, and resolves with the answer, `{ approved, content }`.
   */
  waitForInput(request: { prompt: string; data?: Json }): Promise<{ approved: boolean; content: string }>
  /** Runs `branches` at once (each a function calling steps): their results, in order. */
  parallel<T>(branches: readonly (() => Promise<T>)[]): Promise<T[]>
}

/** What makes an agent definition a workflow (set by {@link workflow}). */
export interface WorkflowSpec {
  /** The schema of the run's input (its `input`, as JSON); none: the input as text. */
  input: z.ZodType | undefined
  run: (ctx: WorkflowContext, input: unknown) => unknown
}

/** The definition passed to {@link workflow}. */
export interface WorkflowDefinition<Schema extends z.ZodType | undefined = undefined> {
  key: string
  version: number
  /** A display name. @default key */
  name?: string
  /** The schema of the input: a run's `input` must then be JSON of it (`validation.invalid` at `createRun` otherwise). @default none: the input text */
  input?: Schema
  /** The workflow. Its return value is the run's content (text, or JSON as text with `output` set). */
  run: (ctx: WorkflowContext, input: Schema extends z.ZodType ? z.output<Schema> : string) => unknown
}

/** A workflow, as an agent definition to give `Runtime.open({ workflows })` (or `agents`) or `defineAgent`. */
export function workflow<Schema extends z.ZodType | undefined = undefined>(definition: WorkflowDefinition<Schema>): AgentDefinition {
  if (typeof definition !== 'object' || definition === null) throw new ValidationError('Expected a workflow definition object')
  if (typeof definition.run !== 'function') throw new ValidationError(`Expected \`run\` of workflow \`${String(definition.key)}\` to be a function`)
  const spec: WorkflowSpec = { input: definition.input, run: definition.run as WorkflowSpec['run'] }
  return { key: definition.key, version: definition.version, name: definition.name ?? definition.key, historyRuns: 0, workflow: spec }
}

/** The input a workflow's function gets from a run's input text; throws `validation.invalid` when it does not fit the schema. */
export function workflowInput(spec: WorkflowSpec, text: string): unknown {
  if (spec.input === undefined) return text
  let value: Json
  try {
    value = JSON.parse(text) as Json
  } catch {
    throw new ValidationError('Expected `input` to be JSON: the workflow has an input schema')
  }
  const parsed = spec.input.safeParse(value)
  if (!parsed.success) throw new ValidationError(`The input does not fit the workflow's schema: ${parsed.error.message}`)
  return parsed.data
}
