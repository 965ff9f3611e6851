import { afterAll, beforeAll } from 'vitest'
import { openaiProvider } from '../../adapters/openai/index.js'
import { startFakeOpenAIServer, type FakeOpenAIServer } from '../openai/fake-openai-server.js'
import { replyWithTurn } from '../openai/wire-script.js'
import { runModelProviderContract } from './model-provider.contract.js'

let server: FakeOpenAIServer

beforeAll(async () => {
  // The client logs the malformed chunk of the bad_response case; the thrown error says the same.
  process.env.OPENAI_LOG = 'off'
  server = await startFakeOpenAIServer()
})

afterAll(async () => {
  await server.close()
})

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
