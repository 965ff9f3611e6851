/**
 * A runtime on OpenAI, or on any server that speaks its Chat Completions API.
 * With OPENAI_API_KEY set, the agent runs on OpenAI (OPENAI_BASE_URL honoured);
 * without it, on a local server that speaks the same wire format, started
 * in-process and scripted to call the tool once and then answer.
 *
 *   npx tsx examples/openai-compatible.ts
 */
import { Runtime, tool } from 'hearth-runtime'
import { openaiProvider } from 'hearth-runtime/openai'
import { callTools, reply } from 'hearth-runtime/testing'
import { z } from 'zod'
import { startFakeOpenAIServer } from '../test/openai/fake-openai-server.js'
import { toChatReply } from '../test/openai/wire-script.js'

const local = process.env.OPENAI_API_KEY ? undefined : await startFakeOpenAIServer()
local?.enqueue(
  toChatReply([...callTools({ name: 'add', arguments: { a: 19, b: 23 } }), { usage: { inputTokens: 60, outputTokens: 18 } }]),
  toChatReply([...reply('19 + 23 = 42.'), { usage: { inputTokens: 90, outputTokens: 8, cachedInputTokens: 64 } }]),
)

const add = tool({ name: 'add', description: 'Adds two numbers', input: z.object({ a: z.number(), b: z.number() }), execute: ({ a, b }) => a + b })
const runtime = await Runtime.open({
  providers: {
    // Reads OPENAI_API_KEY and OPENAI_BASE_URL when they are set.
    openai: openaiProvider(local === undefined ? {} : { apiKey: 'sk-local', baseURL: local.baseURL }),
    // A local model through Ollama's OpenAI-compatible endpoint (`ollama serve`); not used below.
    ollama: openaiProvider({ baseURL: 'http://127.0.0.1:11434/v1', apiKey: 'ollama', name: 'Ollama' }),
  },
  routes: {
    default: { provider: 'openai', model: 'gpt-4o-mini' },
    local: { provider: 'ollama', model: 'llama3.2', pricing: { inputPerMillion: 0, outputPerMillion: 0 } },
  },
  agents: [{ key: 'calculator', version: 1, instructions: 'Use the add tool for sums. Answer in one sentence.', tools: [add] }],
})

try {
  console.log(`Model server: ${local === undefined ? 'OpenAI' : `${local.baseURL} (local, OpenAI wire format)`}`)
  const session = await runtime.createSession()
  const run = await runtime.createRun(session.id, { input: 'What is 19 + 23?' })
  for await (const event of run.events()) console.log(event.seq, event.type, JSON.stringify(event.data))
  const done = await run.result()
  console.log(`\n${done.status}: ${done.content}`)
  console.log(`tokens ${done.metrics.inputTokens} in / ${done.metrics.outputTokens} out, cache hit ${done.cacheHitRate.toFixed(2)}, cost $${done.totalCostUsd}`)
} finally {
  await runtime.close()
  await local?.close()
}
