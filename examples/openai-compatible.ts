/**
 * OpenAI, or any server that speaks its Chat Completions API, as a hearth model.
 * With OPENAI_API_KEY set this streams one answer from OpenAI; without it, from
 * a local server that speaks the same wire format, started in-process.
 *
 *   npx tsx examples/openai-compatible.ts
 */
import { openaiProvider } from 'hearth/openai'
import { reply } from 'hearth/testing'
import { startFakeOpenAIServer } from '../test/openai/fake-openai-server.js'
import { replyWithTurn } from '../test/openai/wire-script.js'

// A local model through Ollama's OpenAI-compatible endpoint (`ollama serve`).
// Ollama ignores the key, but the client sends one. Not called here.
const ollama = openaiProvider({ baseURL: 'http://127.0.0.1:11434/v1', apiKey: 'ollama', name: 'Ollama' })

const local = process.env.OPENAI_API_KEY ? undefined : await startFakeOpenAIServer()
local?.setDefault(
  replyWithTurn([
    ...reply('Hello from a local server that speaks the OpenAI wire format.'),
    { usage: { inputTokens: 24, outputTokens: 12, cachedInputTokens: 0 } },
  ]),
)
// Reads OPENAI_API_KEY and OPENAI_BASE_URL when they are set.
const openai = openaiProvider(local === undefined ? {} : { apiKey: 'sk-local', baseURL: local.baseURL })

console.log(`Streaming from ${local === undefined ? 'OpenAI' : local.baseURL} (also configured: ${ollama.name})`)
try {
  const request = {
    model: 'gpt-4o-mini',
    messages: [
      { role: 'system' as const, content: 'You answer in one sentence.' },
      { role: 'user' as const, content: 'Say hello.' },
    ],
    tools: [],
  }
  for await (const chunk of openai.stream(request, { signal: AbortSignal.timeout(60_000) })) {
    console.log(JSON.stringify(chunk))
  }
  console.log('price of gpt-4o-mini, USD per million tokens:', openai.pricing?.('gpt-4o-mini'))
} finally {
  await local?.close()
}
