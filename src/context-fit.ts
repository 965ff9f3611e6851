/**
 * Fitting a model turn's request into its route's window, before each
 * attempt. When the estimate is over the agent's bound, the history gives
 * way: with `summarize` its older runs become a summary (`context.summarized`,
 * kept on the session), and what is still too long is trimmed, oldest run
 * first (`context.trimmed`). Either event says which earlier runs the model
 * is sent from then on, so a restarted run, and the Agno view, see the same.
 */
import type { LoopContext } from './agent-loop.js'
import { writeSummary } from './context-summary.js'
import { firstKept, historyBytes, makeHistory, messageBytes, type ContextSummary, type History } from './context-window.js'
import type { Message } from './model.js'
import type { ResolvedRoute } from './routes.js'
import { usageData } from './run-state.js'

function sumBytes(messages: readonly Message[]): number {
  let bytes = 0
  for (const message of messages) bytes += messageBytes(message)
  return bytes
}

/**
 * Fits the next request on `route`; with `compact` (the provider said the
 * last one was too long), sends at most half of the history it sent. Returns
 * undefined when there is nothing to do (most turns: no window is known, or
 * all fits), else a promise of the history that fits, set on the context.
 */
export function fitContext(context: LoopContext, route: ResolvedRoute, compact = false): Promise<void> | undefined {
  const { window, agent } = context
  const budget = window.budget(route)
  const history = context.history
  const options = window.options
  // An agent that summarizes does so before an earlier run would fall out of its `historyRuns` unsummarized.
  const due = options.strategy === 'summarize' && agent.historyRuns > options.keepLastTurns && history.runs.length >= agent.historyRuns
  if (budget === undefined && !compact && !due) return undefined
  const ownBytes = window.fixedBytes + sumBytes(context.log.state.messages)
  let allowed = budget === undefined ? Number.POSITIVE_INFINITY : window.bytes(route, budget) - ownBytes
  if (compact) allowed = Math.min(allowed, Math.floor(historyBytes(history) / 2))
  if (historyBytes(history) <= allowed && !due) {
    window.sending(route, ownBytes + historyBytes(history))
    return undefined
  }
  return giveWay(context, route, budget, ownBytes, allowed)
}

async function giveWay(context: LoopContext, route: ResolvedRoute, budget: number | undefined, ownBytes: number, allowed: number): Promise<void> {
  const { window, log } = context
  let history = context.history
  if (window.options.strategy === 'summarize') history = (await summarized(context, route, history, allowed)) ?? history
  if (historyBytes(history) > allowed) {
    const start = firstKept(history.runs, historyBytes(history), allowed)
    if (start > 0) {
      const dropped = history.runs.slice(0, start)
      history = makeHistory(history.runs.slice(start), history.summary)
      log.append('context.trimmed', {
        history_run_ids: history.runs.map((run) => run.runId),
        dropped_run_ids: dropped.map((run) => run.runId),
        estimated_tokens: window.tokens(route, ownBytes + historyBytes(history)),
        max_input_tokens: budget ?? null,
      })
    }
  }
  context.history = history
  window.sending(route, ownBytes + historyBytes(history))
}

/**
 * The history with its older runs (all but the agent's `keepLastTurns`)
 * replaced by a summary, committed as `context.summarized`; undefined when
 * there is nothing to summarize or the summarizer failed (the history is
 * trimmed instead, and the run goes on).
 */
async function summarized(context: LoopContext, route: ResolvedRoute, history: History, allowed: number): Promise<History | undefined> {
  const { window, log } = context
  const keep = Math.min(window.options.keepLastTurns, history.runs.length)
  const older = history.runs.slice(0, history.runs.length - keep)
  const last = older[older.length - 1]
  if (last === undefined) return undefined
  const summarizerId = window.options.summarizerRoute
  let written
  try {
    const writer = summarizerId === undefined ? route : context.route.resolve(summarizerId)
    // A summary takes at most a third of the room the history has, so the runs kept beside it fit too.
    const maxChars = Number.isFinite(allowed) ? Math.max(400, Math.floor(allowed / 3)) : 8000
    written = { route: writer, ...(await writeSummary(writer, history.summary?.summary, older, maxChars, context.signal)) }
  } catch (error) {
    if (context.signal.aborted) throw error
    context.logger.warn(`Run ${log.runId} could not summarize its history, so it trims it instead: ${error instanceof Error ? error.message : String(error)}`)
    return undefined
  }
  const kept = history.runs.slice(older.length)
  const now = Date.now()
  const summary: ContextSummary = { summary: written.summary, coversThroughRunId: last.runId, runId: log.runId, createdAt: new Date(now).toISOString() }
  log.append(
    'context.summarized',
    {
      summary: summary.summary,
      covers_through_run_id: summary.coversThroughRunId,
      history_run_ids: kept.map((run) => run.runId),
      route_id: written.route.id,
      usage: usageData(written.usage),
    },
    now,
  )
  log.setContextSummary(summary)
  return makeHistory(kept, summary)
}
