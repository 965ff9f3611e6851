/**
 * hearth-runtime/openai: real models through the official `openai` package, for
 * OpenAI and every server that speaks its Chat Completions API.
 */
export { openaiProvider } from './openai-provider.js'
export type { OpenAIProviderOptions } from './openai-provider.js'
export { openaiContextWindows, openaiPrices, openaiTablesAsOf } from './pricing.js'
export { isStrictCompatible } from './strict-schema.js'
