/**
 * Built-in prices and context windows of Anthropic's Claude models, so
 * `total_cost_usd` is right and histories are fitted without configuration.
 * A route's own `pricing` and `contextWindow` win over these tables, and
 * `anthropicProvider({ pricing, contextWindows })` adds to them or replaces
 * entries.
 */
import type { Logger } from '../../src/logger.js'
import type { Pricing } from '../../src/model.js'
import { lookUpModel, lookUpPrice } from '../../src/model-tables.js'

/** When the tables below were taken from Anthropic's pricing and models pages. */
export const anthropicTablesAsOf = '2026-03-21'

const price = (input: number, output: number): Pricing => ({
  inputPerMillion: input,
  outputPerMillion: output,
  // Cache reads cost a tenth of input, 5-minute cache writes a quarter more (Anthropic's rates for every model).
  cachedInputPerMillion: Math.round(input * 10) / 100,
  cacheWritePerMillion: Math.round(input * 125) / 100,
})

/**
 * USD per million tokens, standard (not batch) rates, by model id; a dated
 * snapshot (`claude-sonnet-4-5-20250929`) or a `-latest` alias is priced as
 * its base id. Prices change: check the page and override with `pricing`.
 */
export const anthropicPrices: Readonly<Record<string, Pricing>> = Object.freeze({
  'claude-opus-4-6': price(5, 25),
  'claude-sonnet-4-6': price(3, 15),
  'claude-opus-4-5': price(5, 25),
  'claude-sonnet-4-5': price(3, 15),
  'claude-haiku-4-5': price(1, 5),
  'claude-opus-4-1': price(15, 75),
  'claude-opus-4-0': price(15, 75),
  'claude-opus-4': price(15, 75),
  'claude-sonnet-4-0': price(3, 15),
  'claude-sonnet-4': price(3, 15),
  'claude-3-7-sonnet': price(3, 15),
  'claude-3-5-haiku': price(0.8, 4),
  'claude-3-haiku': { inputPerMillion: 0.25, outputPerMillion: 1.25, cachedInputPerMillion: 0.03, cacheWritePerMillion: 0.3 },
})

/** Context windows in tokens by model id (the standard window; 1M-token betas are opted into per route with `contextWindow`). */
export const anthropicContextWindows: Readonly<Record<string, number>> = Object.freeze({
  'claude-opus-4-6': 1_000_000,
  'claude-sonnet-4-6': 1_000_000,
  'claude-opus-4-5': 200_000,
  'claude-sonnet-4-5': 200_000,
  'claude-haiku-4-5': 200_000,
  'claude-opus-4-1': 200_000,
  'claude-opus-4-0': 200_000,
  'claude-opus-4': 200_000,
  'claude-sonnet-4-0': 200_000,
  'claude-sonnet-4': 200_000,
  'claude-3-7-sonnet': 200_000,
  'claude-3-5-haiku': 200_000,
  'claude-3-haiku': 200_000,
})

const datedSnapshot = /-(?:\d{8}|latest)$/
const vendorPrefix = /^anthropic\//

/** The id a model is priced under: a dated snapshot or `-latest` alias as its base id, OpenRouter's `anthropic/` prefix dropped. */
export function modelKeyOf(model: string): string {
  return model.replace(vendorPrefix, '').replace(datedSnapshot, '')
}

/** The price of `model` from `table`; an unknown model is free, and says so once. */
export function anthropicPrice(table: Readonly<Record<string, Pricing>>, model: string, logger: Logger): Pricing {
  return lookUpPrice(table, model, modelKeyOf, logger, 'hearth-runtime/anthropic', 'anthropicProvider')
}

/** The window of `model` from `table`; undefined when unknown. */
export function anthropicContextWindow(table: Readonly<Record<string, number>>, model: string): number | undefined {
  return lookUpModel(table, model, modelKeyOf)
}
