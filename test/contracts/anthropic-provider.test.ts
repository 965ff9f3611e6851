import { anthropicProvider } from '../../adapters/anthropic/index.js'
import { toAnthropicReply } from '../anthropic/wire-script.js'
import { runModelProviderContract } from 'hearth-runtime/testing/contracts'
import { useFakeOpenAIServer } from '../openai/use-fake-server.js'

const server = useFakeOpenAIServer()

runModelProviderContract(
  'anthropicProvider against the local Anthropic wire server',
  async (turn) => {
    server.setDefault(() => toAnthropicReply(turn))
    // A short timeout keeps the timeout case fast.
    return { provider: anthropicProvider({ apiKey: 'sk-ant-test', baseURL: server.baseURL.replace(/\/v1$/, ''), timeout: 250 }) }
  },
  {
    errorCodes: ['provider.auth', 'provider.rate_limited', 'provider.unavailable', 'provider.context_length', 'provider.bad_request', 'provider.bad_response', 'provider.timeout'],
    reasoningBlocks: true,
  },
)
