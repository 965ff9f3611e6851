/**
 * hearth-runtime/anthropic: Claude through the official `@anthropic-ai/sdk`
 * package (an optional peer, loaded by the first request).
 */
export { anthropicProvider, defaultMaxTokens } from './anthropic-provider.js'
export type { AnthropicProviderOptions } from './anthropic-provider.js'
export { anthropicContextWindows, anthropicPrices, anthropicTablesAsOf } from './pricing.js'
