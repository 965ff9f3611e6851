/**
 * A run's figures for its record: its metrics and cost from its own model
 * turns, priced by the routes that served them, plus what its ended child
 * runs report (`subrun.completed`), so a parent's usage and cost include
 * its children's.
 */
import { runCostOf, type CostFigures, type ResolvedRoute } from './routes.js'
import { metricsOf, type RunState } from './run-state.js'
import type { RunMetrics } from './store.js'

/** Metrics and cost of a run with its children's; `endMs` undefined while it has not ended. */
export function runFigures(state: RunState, endMs: number | undefined, route: ResolvedRoute, creditsPerUsd: number): CostFigures & { metrics: RunMetrics } {
  const metrics = metricsOf(state, endMs)
  const cost = runCostOf(metrics, state.fallbackUsage, route, creditsPerUsd, state.usage.cacheWriteInputTokens)
  const children = state.childTotals
  if (children === undefined) return { metrics, ...cost }
  metrics.inputTokens += children.inputTokens
  metrics.outputTokens += children.outputTokens
  metrics.totalTokens += children.inputTokens + children.outputTokens
  metrics.cachedInputTokens += children.cachedInputTokens
  metrics.reasoningTokens += children.reasoningTokens
  return {
    metrics,
    // The cache hit rate stays the run's own: its children's turns went to other prompts.
    cacheHitRate: cost.cacheHitRate,
    totalCostUsd: Math.round((cost.totalCostUsd + children.totalCostUsd) * 1e10) / 1e10,
    creditsUsed: cost.creditsUsed + children.creditsUsed,
  }
}
