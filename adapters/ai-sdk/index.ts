/**
 * hearth-runtime/ai-sdk: any AI SDK language model (specification v2 or v3,
 * from the provider packages of `ai` 5 and 6) as a ModelProvider.
 */
export { aiSdkProvider } from './ai-sdk-provider.js'
export type { AiSdkProviderOptions } from './ai-sdk-provider.js'
export type { LanguageModel } from './language-model.js'
