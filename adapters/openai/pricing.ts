/**
 * Built-in prices of OpenAI's common models, so `total_cost_usd` is right
 * without configuration. A route's own `pricing` wins over this table, and
 * `openaiProvider({ pricing })` adds to it or replaces entries.
 */
import type { Pricing } from '../../src/model.js'
import type { Logger } from '../../src/logger.js'
import { lookUpModel, lookUpPrice as lookUpModelPrice } from '../../src/model-tables.js'

/** When the tables below were last taken from OpenAI's pricing and model pages. */
export const openaiTablesAsOf = '2026-03'

/**
 * USD per million tokens, Standard tier, text tokens, by model id.
 * Source: https://platform.openai.com/docs/pricing (the GPT-5.4 family) and
 * the GPT-5.2 launch page (GPT-5.2, 5.1, the Pro models), as of
 * {@link openaiTablesAsOf}; the older rows as of August 2025. A `-pro` model
 * has no cached rate. Prices change: check the page and override with
 * `pricing` when they do.
 */
export const openaiPrices: Readonly<Record<string, Pricing>> = Object.freeze({
  'gpt-5.4': { inputPerMillion: 2.5, cachedInputPerMillion: 0.25, outputPerMillion: 15 },
  'gpt-5.4-mini': { inputPerMillion: 0.75, cachedInputPerMillion: 0.075, outputPerMillion: 4.5 },
  'gpt-5.4-nano': { inputPerMillion: 0.2, cachedInputPerMillion: 0.02, outputPerMillion: 1.25 },
  'gpt-5.2': { inputPerMillion: 1.75, cachedInputPerMillion: 0.175, outputPerMillion: 14 },
  'gpt-5.2-pro': { inputPerMillion: 21, outputPerMillion: 168 },
  'gpt-5.1': { inputPerMillion: 1.25, cachedInputPerMillion: 0.125, outputPerMillion: 10 },
  'gpt-5-pro': { inputPerMillion: 15, outputPerMillion: 120 },
  'gpt-5': { inputPerMillion: 1.25, cachedInputPerMillion: 0.125, outputPerMillion: 10 },
  'gpt-5-mini': { inputPerMillion: 0.25, cachedInputPerMillion: 0.025, outputPerMillion: 2 },
  'gpt-5-nano': { inputPerMillion: 0.05, cachedInputPerMillion: 0.005, outputPerMillion: 0.4 },
  'gpt-4.1': { inputPerMillion: 2, cachedInputPerMillion: 0.5, outputPerMillion: 8 },
  'gpt-4.1-mini': { inputPerMillion: 0.4, cachedInputPerMillion: 0.1, outputPerMillion: 1.6 },
  'gpt-4.1-nano': { inputPerMillion: 0.1, cachedInputPerMillion: 0.025, outputPerMillion: 0.4 },
  'gpt-4o': { inputPerMillion: 2.5, cachedInputPerMillion: 1.25, outputPerMillion: 10 },
  'gpt-4o-mini': { inputPerMillion: 0.15, cachedInputPerMillion: 0.075, outputPerMillion: 0.6 },
  o3: { inputPerMillion: 2, cachedInputPerMillion: 0.5, outputPerMillion: 8 },
  'o4-mini': { inputPerMillion: 1.1, cachedInputPerMillion: 0.275, outputPerMillion: 4.4 },
  'o3-mini': { inputPerMillion: 1.1, cachedInputPerMillion: 0.55, outputPerMillion: 4.4 },
  o1: { inputPerMillion: 15, cachedInputPerMillion: 7.5, outputPerMillion: 60 },
  'o1-mini': { inputPerMillion: 1.1, cachedInputPerMillion: 0.55, outputPerMillion: 4.4 },
  'gpt-4-turbo': { inputPerMillion: 10, outputPerMillion: 30 },
  'gpt-3.5-turbo': { inputPerMillion: 0.5, outputPerMillion: 1.5 },
})

/**
 * Context windows in tokens (input and output together) of the same models,
 * from OpenAI's model pages (August 2025). A route's `contextWindow` wins, and
 * `openaiProvider({ contextWindows })` adds to it or replaces entries.
 */
export const openaiContextWindows: Readonly<Record<string, number>> = Object.freeze({
  'gpt-5.4': 400_000,
  'gpt-5.4-mini': 400_000,
  'gpt-5.4-nano': 400_000,
  'gpt-5.2': 400_000,
  'gpt-5.2-pro': 400_000,
  'gpt-5.1': 400_000,
  'gpt-5-pro': 400_000,
  'gpt-5': 400_000,
  'gpt-5-mini': 400_000,
  'gpt-5-nano': 400_000,
  'gpt-4.1': 1_047_576,
  'gpt-4.1-mini': 1_047_576,
  'gpt-4.1-nano': 1_047_576,
  'gpt-4o': 128_000,
  'gpt-4o-mini': 128_000,
  o3: 200_000,
  'o4-mini': 200_000,
  'o3-mini': 200_000,
  o1: 200_000,
  'o1-mini': 128_000,
  'gpt-4-turbo': 128_000,
  'gpt-3.5-turbo': 16_385,
})

/** The window of `model` from `table` (exact name first, then its base name); undefined when unknown. */
export function lookUpContextWindow(table: Readonly<Record<string, number>>, model: string): number | undefined {
  return lookUpModel(table, model, priceKeyOf)
}

const datedSnapshot = /-(?:\d{4}-\d{2}-\d{2}|chat-latest)$/
const vendorPrefix = /^openai\//

/**
 * The name a model is priced under: a dated snapshot (`gpt-4o-mini-2024-07-18`)
 * or a `-chat-latest` alias (`gpt-5.1-chat-latest`) is priced as its base
 * model, and OpenRouter's `openai/` prefix is dropped.
 */
export function priceKeyOf(model: string): string {
  return model.replace(vendorPrefix, '').replace(datedSnapshot, '')
}

/** The price of `model` from `table` (exact name first, then its base name); an unknown model is free, and says so once. */
export function lookUpPrice(table: Readonly<Record<string, Pricing>>, model: string, logger: Logger): Pricing {
  return lookUpModelPrice(table, model, priceKeyOf, logger, 'hearth-runtime/openai', 'openaiProvider')
}
