/**
 * Routes name a provider and a model, with pricing; and the cost figures a
 * run's usage gives under that pricing.
 */
import { NotFoundError, ValidationError } from './errors.js'
import type { ModelProvider, Pricing } from './model.js'
import type { RunMetrics } from './store.js'

/** A named provider + model. */
export interface Route {
  /** The key of the provider in `providers`. */
  provider: string
  /** The model name sent to the provider. @default the provider's own `model` */
  model?: string
  /** USD per million tokens. @default the provider's own `pricing(model)`, else free */
  pricing?: Pricing
  /** How the loop retries a model turn that failed with a retryable code. @default { maxAttempts: 4, baseDelayMs: 500, maxDelayMs: 20000 } */
  retry?: RetryPolicy
  /** Milliseconds from a request to its first chunk before the attempt fails with `provider.timeout` (retried); `0` waits for ever. @default 120000 */
  firstChunkTimeoutMs?: number
  /** Milliseconds between two chunks of a stream before the attempt fails with `provider.timeout` (retried); `0` waits for ever. @default 60000 */
  idleTimeoutMs?: number
  /**
   * Route ids tried in order when this route fails a model turn with a
   * provider error (after its retries): each commits `model.fallback`, and the
   * turn is priced by the route that served it. Fallbacks of a fallback are
   * not followed. @default []
   */
  fallbacks?: readonly string[]
  /** The model's context window in tokens, for the agents' `context`. @default the provider's `contextWindow(model)`, else unknown (no trimming unless the agent sets `context.maxInputTokens`) */
  contextWindow?: number
}

/** How a model turn is retried: exponential backoff with full jitter, capped, honouring the provider's `Retry-After`. */
export interface RetryPolicy {
  /** Attempts per model turn, the first one included (1: never retry). @default 4 */
  maxAttempts?: number
  /** The cap of the first backoff; it doubles per retry (the wait is a random time up to it). @default 500 */
  baseDelayMs?: number
  /** No wait is longer, a `Retry-After` included. @default 20000 */
  maxDelayMs?: number
}

/** The retry settings of a resolved route. */
export type ResolvedRetry = Required<RetryPolicy>

/** The retry settings a route gets when it sets none. */
export const defaultRetry: ResolvedRetry = { maxAttempts: 4, baseDelayMs: 500, maxDelayMs: 20_000 }

/** A route after resolution. */
export interface ResolvedRoute {
  id: string
  provider: ModelProvider
  /** The provider's key in the runtime's `providers`. */
  providerKey: string
  providerName: string
  model: string
  pricing: Pricing | undefined
  retry: ResolvedRetry
  firstChunkTimeoutMs: number
  idleTimeoutMs: number
  /** The ids of the routes tried when this one fails, in order. */
  fallbacks: readonly string[]
  /** The model's context window in tokens; undefined when unknown. */
  contextWindow: number | undefined
  /** Resolves another route of the same runtime (a fallback, or the route that served a turn). */
  resolve: (id: string) => ResolvedRoute
}

/** A route's stream timeouts when it sets none. */
export const defaultStreamTimeouts = { firstChunkTimeoutMs: 120_000, idleTimeoutMs: 60_000 } as const

function checkPricing(pricing: unknown, where: string): void {
  if (pricing === undefined) return
  const value = pricing as Record<string, unknown>
  const fields = ['inputPerMillion', 'outputPerMillion', 'cachedInputPerMillion', 'cacheWritePerMillion'] as const
  for (const field of fields) {
    const number = value?.[field]
    if (number === undefined && (field === 'cachedInputPerMillion' || field === 'cacheWritePerMillion')) continue
    if (typeof number !== 'number' || !Number.isFinite(number) || number < 0) {
      throw new ValidationError(`Expected \`${where}.pricing.${field}\` to be a non-negative number, got \`${String(number)}\``)
    }
  }
}

/** Validates the `routes` option against `providers`. */
export function checkRoutes(routes: Record<string, Route>, providers: Record<string, ModelProvider>): void {
  for (const [id, route] of Object.entries(routes)) {
    if (typeof route !== 'object' || route === null) throw new ValidationError(`Expected route \`${id}\` to be an object`)
    if (typeof route.provider !== 'string' || !Object.hasOwn(providers, route.provider)) {
      throw new ValidationError(`Route \`${id}\` names provider \`${String(route.provider)}\`, which is not in \`providers\``)
    }
    const model = route.model ?? providers[route.provider]?.model
    if (typeof model !== 'string' || model === '') {
      throw new ValidationError(`Expected \`routes.${id}.model\` to be a non-empty string (or a provider that names its model)`)
    }
    checkPricing(route.pricing, `routes.${id}`)
    checkRetry(route.retry, `routes.${id}`)
    const fallbacks = route.fallbacks
    if (fallbacks !== undefined) {
      if (!Array.isArray(fallbacks)) throw new ValidationError(`Expected \`routes.${id}.fallbacks\` to be an array of route ids`)
      for (const fallback of fallbacks) {
        if (typeof fallback !== 'string' || !Object.hasOwn(routes, fallback) || fallback === id || fallbacks.indexOf(fallback) !== fallbacks.lastIndexOf(fallback)) {
          throw new ValidationError(`Expected \`routes.${id}.fallbacks\` to name other routes, each once; \`${String(fallback)}\` is not one`)
        }
      }
    }
    for (const field of ['firstChunkTimeoutMs', 'idleTimeoutMs'] as const) {
      const value = route[field]
      if (value !== undefined && (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0)) {
        throw new ValidationError(`Expected \`routes.${id}.${field}\` to be an integer from 0, got \`${String(value)}\``)
      }
    }
    const window = route.contextWindow
    if (window !== undefined && (typeof window !== 'number' || !Number.isSafeInteger(window) || window < 1)) {
      throw new ValidationError(`Expected \`routes.${id}.contextWindow\` to be a positive integer, got \`${String(window)}\``)
    }
  }
}

function checkRetry(retry: unknown, where: string): void {
  if (retry === undefined) return
  if (typeof retry !== 'object' || retry === null) throw new ValidationError(`Expected \`${where}.retry\` to be an object`)
  const value = retry as Record<string, unknown>
  for (const field of ['maxAttempts', 'baseDelayMs', 'maxDelayMs'] as const) {
    const number = value[field]
    if (number === undefined) continue
    const least = field === 'maxAttempts' ? 1 : 0
    if (typeof number !== 'number' || !Number.isSafeInteger(number) || number < least) {
      throw new ValidationError(`Expected \`${where}.retry.${field}\` to be an integer from ${least}, got \`${String(number)}\``)
    }
  }
}

/** Resolved routes by route table: a runtime's routes are fixed when it opens, so each is resolved once. */
const resolvedRoutes = new WeakMap<Record<string, Route>, Map<string, ResolvedRoute>>()

/**
 * Resolves a route id; `not_found.model_route` when there is none. The
 * result is shared (resolved once per route table, which a runtime fixes
 * when it opens): callers do not change it.
 */
export function resolveRoute(id: string, routes: Record<string, Route>, providers: Record<string, ModelProvider>): ResolvedRoute {
  let resolved = resolvedRoutes.get(routes)
  if (resolved === undefined) {
    resolved = new Map()
    resolvedRoutes.set(routes, resolved)
  }
  const known = resolved.get(id)
  if (known !== undefined && known.provider === providers[known.providerKey]) return known
  const route = Object.hasOwn(routes, id) ? routes[id] : undefined
  if (route === undefined) throw new NotFoundError('not_found.model_route', `Route ${id} is not defined`)
  const provider = providers[route.provider] as ModelProvider
  // checkRoutes made sure one of the two is a string.
  const model = (route.model ?? provider.model) as string
  const result: ResolvedRoute = {
    id,
    provider,
    providerKey: route.provider,
    providerName: provider.name ?? route.provider,
    model,
    pricing: route.pricing ?? provider.pricing?.(model),
    retry: {
      maxAttempts: route.retry?.maxAttempts ?? defaultRetry.maxAttempts,
      baseDelayMs: route.retry?.baseDelayMs ?? defaultRetry.baseDelayMs,
      maxDelayMs: route.retry?.maxDelayMs ?? defaultRetry.maxDelayMs,
    },
    firstChunkTimeoutMs: route.firstChunkTimeoutMs ?? defaultStreamTimeouts.firstChunkTimeoutMs,
    idleTimeoutMs: route.idleTimeoutMs ?? defaultStreamTimeouts.idleTimeoutMs,
    fallbacks: route.fallbacks ?? [],
    contextWindow: route.contextWindow ?? provider.contextWindow?.(model),
    resolve: (other) => resolveRoute(other, routes, providers),
  }
  resolved.set(id, result)
  return result
}

/** The money figures of a run. */
export interface CostFigures {
  totalCostUsd: number
  cacheHitRate: number
  creditsUsed: number
}

/**
 * Cost, cache hit rate and credits from metrics: cached tokens, and
 * `cacheWriteInputTokens` (tokens written to the prompt cache), are part of
 * the input tokens.
 */
export function costOf(metrics: RunMetrics, pricing: Pricing | undefined, creditsPerUsd: number, cacheWriteInputTokens = 0): CostFigures {
  const cached = Math.min(metrics.cachedInputTokens, metrics.inputTokens)
  const cacheHitRate = metrics.inputTokens > 0 ? cached / metrics.inputTokens : 0
  if (pricing === undefined) return { totalCostUsd: 0, cacheHitRate, creditsUsed: 0 }
  const micro = microCost({ inputTokens: metrics.inputTokens, outputTokens: metrics.outputTokens, cachedInputTokens: metrics.cachedInputTokens, cacheWriteInputTokens }, pricing)
  // Round to 1e-10 USD so float noise does not show up in records.
  const totalCostUsd = Math.round((micro / 1_000_000) * 1e10) / 1e10
  return { totalCostUsd, cacheHitRate, creditsUsed: Math.round(totalCostUsd * creditsPerUsd) }
}

/** Token totals of the turns one route served. */
export interface RouteUsage {
  inputTokens: number
  outputTokens: number
  cachedInputTokens: number
  /** Part of `inputTokens`. @default 0 */
  cacheWriteInputTokens?: number
}

/**
 * A run's cost when fallback routes served some of its turns: the tokens of
 * each fallback (`fallbackUsage`, by route id) priced by that route, the
 * rest by the run's own, summed and rounded once. Without fallback turns it
 * is {@link costOf} of the run's metrics.
 */
export function runCostOf(metrics: RunMetrics, fallbackUsage: ReadonlyMap<string, RouteUsage> | undefined, route: ResolvedRoute, creditsPerUsd: number, cacheWriteInputTokens = 0): CostFigures {
  if (fallbackUsage === undefined) return costOf(metrics, route.pricing, creditsPerUsd, cacheWriteInputTokens)
  const own = { inputTokens: metrics.inputTokens, outputTokens: metrics.outputTokens, cachedInputTokens: metrics.cachedInputTokens, cacheWriteInputTokens }
  let micro = 0
  for (const [id, usage] of fallbackUsage) {
    own.inputTokens -= usage.inputTokens
    own.outputTokens -= usage.outputTokens
    own.cachedInputTokens -= usage.cachedInputTokens
    own.cacheWriteInputTokens -= usage.cacheWriteInputTokens ?? 0
    micro += microCost(usage, id === route.id ? route.pricing : pricingOf(route, id))
  }
  micro += microCost(own, route.pricing)
  const { cacheHitRate } = costOf(metrics, undefined, creditsPerUsd)
  const totalCostUsd = Math.round((micro / 1_000_000) * 1e10) / 1e10
  return { totalCostUsd, cacheHitRate, creditsUsed: Math.round(totalCostUsd * creditsPerUsd) }
}

function microCost(usage: RouteUsage, pricing: Pricing | undefined): number {
  if (pricing === undefined) return 0
  const cached = Math.min(usage.cachedInputTokens, usage.inputTokens)
  const written = Math.min(usage.cacheWriteInputTokens ?? 0, usage.inputTokens - cached)
  return (
    (usage.inputTokens - cached - written) * pricing.inputPerMillion +
    cached * (pricing.cachedInputPerMillion ?? pricing.inputPerMillion) +
    written * (pricing.cacheWritePerMillion ?? pricing.inputPerMillion) +
    usage.outputTokens * pricing.outputPerMillion
  )
}

/** The pricing of another route; undefined when this runtime no longer defines it. */
function pricingOf(route: ResolvedRoute, id: string): Pricing | undefined {
  try {
    return route.resolve(id).pricing
  } catch {
    return undefined
  }
}
