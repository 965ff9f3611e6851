import { aiSdkProvider } from '../../adapters/ai-sdk/index.js'
import { runModelProviderContract } from 'hearth-runtime/testing/contracts'
import { handmadeV2, mockV3 } from '../ai-sdk/scripted-models.js'

const errorCodes = ['provider.auth', 'provider.rate_limited', 'provider.unavailable', 'provider.context_length', 'provider.bad_request', 'provider.bad_response', 'provider.timeout'] as const

runModelProviderContract('aiSdkProvider on ai@6’s MockLanguageModelV3 (specification v3)', async (turn) => ({ provider: aiSdkProvider(mockV3(turn)) }), { errorCodes })
runModelProviderContract('aiSdkProvider on a hand-built specification v2 model', async (turn) => ({ provider: aiSdkProvider(handmadeV2(turn)) }), { errorCodes })
