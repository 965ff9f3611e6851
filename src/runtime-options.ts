/**
 * The options and argument types of the Runtime's methods.
 */
import type { AgentDefinition } from './agents.js'
import type { ModelProvider } from './model.js'
import type { Route } from './routes.js'
import type { Caller, RunStatus, Store } from './store.js'

/** Options of {@link Runtime.open}. */
export interface RuntimeOptions {
  /** Where sessions, runs and events are kept. @default memoryStore() */
  store?: Store
  /** Model providers by name, referred to by routes. @default {} */
  providers?: Record<string, ModelProvider>
  /** Named provider + model pairs; a run uses its `routeId`, else its agent's route, else `default`. @default {} */
  routes?: Record<string, Route>
  /** Agents defined at open. More can be added with `defineAgent`. @default [] */
  agents?: readonly AgentDefinition[]
  /** The agent of a run whose session and request name none. @default the first agent defined */
  defaultAgent?: string
  /** Runs executing at once. @default 16 */
  concurrency?: number
  /** Tool calls of one model turn executed at once. @default 8 */
  toolConcurrency?: number
  /** `creditsUsed = round(totalCostUsd * creditsPerUsd)`. @default 1000 */
  creditsPerUsd?: number
  /** What happens to runs found running in the store at open: continue them, or fail them with `run.interrupted`. @default 'resume' */
  recovery?: 'resume' | 'fail'
  /** Largest run input in UTF-8 bytes. @default 1048576 */
  maxInputBytes?: number
  /**
   * Execute runs (true), or only read and watch them (false: an observer that
   * never executes or recovers a run; its `createRun` leaves the run queued
   * for an executing runtime on the same store). @default true
   */
  execute?: boolean
  /** An owner whose heartbeat is older than this (ms) is dead and its runs are recovered; beats come every third of it. @default 10000 */
  leaseMs?: number
}

/** Options of {@link Runtime.createRun}. */
export interface CreateRunOptions {
  /** The user's message. */
  input: string
  /** `key` or `key@version`. @default the session's agent, else the runtime's default agent */
  personaId?: string
  /** @default the agent's route, else 'default' */
  routeId?: string
  /** What to do when the session already has an active run. @default 'enqueue' */
  multitask?: 'reject' | 'enqueue' | 'interrupt'
  createdBy?: Caller
  /** Scope: the run's session must belong to this org. */
  orgId?: string
  /** The run's trace id (32 lowercase hex characters, W3C style), e.g. the caller's own. @default a new one */
  traceId?: string
}

/** Options of {@link Runtime.listRuns}. */
export interface ListRunsOptions {
  orgId?: string
  sessionId?: string
  status?: RunStatus | readonly RunStatus[]
  /** 1 to 100. @default 20 */
  limit?: number
  /** The id of the previous page's last run. */
  before?: string
  /** 'desc': newest first; 'asc': oldest first (`before` then means "after"). @default 'desc' */
  order?: 'asc' | 'desc'
}

/** An answer to a waiting run. */
export interface InputOptions {
  /** The answer (at most 32,768 bytes of UTF-8). Without `approved`, `approve` or `yes` approves. @default '' */
  content?: string
  approved?: boolean
  /** The request answered. @default the oldest open one */
  toolCallId?: string
  orgId?: string
}

/** Max bytes of `submitInput` content. */
export const maxInputContentBytes = 32_768

/** A positive integer option, or its default; a TypeError otherwise. */
export function positiveInteger(value: unknown, name: string, fallback: number): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
    throw new TypeError(`Expected \`${name}\` to be a positive integer, got \`${String(value)}\``)
  }
  return value
}
