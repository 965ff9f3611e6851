import { scriptedModel } from '../../src/testing/scripted-model.js'
import { runModelProviderContract } from 'hearth-runtime/testing/contracts'

runModelProviderContract('scriptedModel', async (turn) => ({ provider: scriptedModel([turn]) }), {
  errorCodes: [
    'provider.auth',
    'provider.rate_limited',
    'provider.unavailable',
    'provider.context_length',
    'provider.bad_response',
    'provider.timeout',
  ],
  reasoningBlocks: true,
})
