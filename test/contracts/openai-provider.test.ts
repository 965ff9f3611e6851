import { openaiProvider } from '../../adapters/openai/index.js'
import { replyWithTurn } from '../openai/wire-script.js'
import { runModelProviderContract } from 'hearth-runtime/testing/contracts'
import { useFakeOpenAIServer } from '../openai/use-fake-server.js'

const server = useFakeOpenAIServer({ quiet: true })

const allCodes = [
  'provider.auth',
  'provider.rate_limited',
  'provider.unavailable',
  'provider.context_length',
  'provider.bad_response',
  'provider.timeout',
] as const

for (const api of ['chat', 'responses'] as const) {
  runModelProviderContract(
    `openaiProvider (${api}) against the local wire server`,
    async (turn) => {
      server.setDefault(replyWithTurn(turn))
      // Small limits keep the retry and timeout cases fast; retry-after is 0 on the wire.
      return { provider: openaiProvider({ api, apiKey: 'sk-test', baseURL: server.baseURL, maxRetries: 1, timeout: 250 }) }
    },
    { errorCodes: allCodes },
  )
}
