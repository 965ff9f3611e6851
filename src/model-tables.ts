/**
 * For provider adapters: built-in tables by model name (prices, context
 * windows), looked up by the exact name first and then by the name the
 * adapter's alias rules give (a dated snapshot as its base model), and a
 * free price for a model no table knows, said once per model and process.
 */
import type { Logger } from './logger.js'
import type { Pricing } from './model.js'

/** The entry for `model`: its exact name first, then `baseName(model)`; undefined when neither is in `table`. */
export function lookUpModel<T>(table: Readonly<Record<string, T>>, model: string, baseName: (model: string) => string): T | undefined {
  if (Object.hasOwn(table, model)) return table[model]
  const key = baseName(model)
  return Object.hasOwn(table, key) ? table[key] : undefined
}

const warned = new Set<string>()
const free: Pricing = Object.freeze({ inputPerMillion: 0, cachedInputPerMillion: 0, outputPerMillion: 0 })

/**
 * The price of `model` from `table`; an unknown model is free, and says so
 * to `logger.warn` once per subpath and model name per process, naming the
 * provider function whose `pricing` option fixes it.
 */
export function lookUpPrice(table: Readonly<Record<string, Pricing>>, model: string, baseName: (model: string) => string, logger: Logger, subpath: string, factory: string): Pricing {
  const price = lookUpModel(table, model, baseName)
  if (price !== undefined) return price
  const key = `${subpath} ${model}`
  if (!warned.has(key)) {
    warned.add(key)
    logger.warn(`${subpath} has no price for model "${model}", so its runs cost 0. Set \`pricing\` on its route or on ${factory}() to count its cost.`)
  }
  return free
}
