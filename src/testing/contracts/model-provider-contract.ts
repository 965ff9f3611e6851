/**
 * The ModelProvider contract: every provider runs this whole suite unchanged.
 * A fixture factory builds a provider that answers the next request with the
 * given ScriptedTurn (scriptedModel plays it; an HTTP provider gets a local
 * server that speaks its wire format).
 *
 *   runModelProviderContract('openai', async (turn) => ({ provider, cleanup }))
 */
import { afterEach, describe, expect, it } from 'vitest'
import type { ProviderErrorCode } from '../../errors.js'
import type { ModelChunk, ModelProvider, ModelRequest } from '../../model.js'
import type { ScriptedTurn } from '../scripted-model.js'

/** What a contract factory returns. */
export interface ModelProviderFixture {
  provider: ModelProvider
  /** Stops servers and the like. */
  cleanup?: () => Promise<void>
}

/** Options of {@link runModelProviderContract}. */
export interface ModelProviderContractOptions {
  /** The error codes a scripted `{ error: { code } }` step must come out as. @default the four every HTTP provider maps */
  errorCodes?: readonly ProviderErrorCode[]
  /** The provider streams reasoning blocks (`reasoning-block`) and takes them back on assistant messages (`reasoningBlocks`). @default false */
  reasoningBlocks?: boolean
}

const defaultErrorCodes: readonly ProviderErrorCode[] = [
  'provider.auth',
  'provider.rate_limited',
  'provider.unavailable',
  'provider.context_length',
]

const weatherTool = {
  name: 'get_weather',
  description: 'The weather in a city',
  parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'], additionalProperties: false },
}
const timeTool = {
  name: 'get_time',
  description: 'The time in a zone',
  parameters: { type: 'object', properties: { zone: { type: 'string' }, precise: { type: 'boolean' } }, required: ['zone'] },
}

function request(overrides: Partial<ModelRequest> = {}): ModelRequest {
  return {
    model: 'gpt-4o-mini',
    messages: [
      { role: 'system', content: 'You are terse.' },
      { role: 'user', content: 'Hello?' },
    ],
    tools: [],
    ...overrides,
  }
}

function textOf(chunks: ModelChunk[], type: 'text-delta' | 'reasoning-delta'): string {
  return chunks.map((chunk) => (chunk.type === type ? chunk.text : '')).join('')
}

/** Runs the ModelProvider contract against the providers `makeProvider` builds. */
export function runModelProviderContract(
  name: string,
  makeProvider: (turn: ScriptedTurn) => Promise<ModelProviderFixture>,
  options: ModelProviderContractOptions = {},
): void {
  describe(`ModelProvider contract: ${name}`, () => {
    const cleanups: (() => Promise<void>)[] = []

    afterEach(async () => {
      for (const cleanup of cleanups.splice(0)) await cleanup()
    })

    async function providerFor(turn: ScriptedTurn): Promise<ModelProvider> {
      const fixture = await makeProvider(turn)
      if (fixture.cleanup !== undefined) cleanups.push(fixture.cleanup)
      return fixture.provider
    }

    async function collect(turn: ScriptedTurn, overrides: Partial<ModelRequest> = {}): Promise<ModelChunk[]> {
      const provider = await providerFor(turn)
      const chunks: ModelChunk[] = []
      for await (const chunk of provider.stream(request(overrides), { signal: new AbortController().signal })) chunks.push(chunk)
      return chunks
    }

    it('streams text deltas that join to the text, then one finish `stop` last', async () => {
      const chunks = await collect([{ text: 'Hel' }, { text: 'lo, ' }, { text: 'world.' }])
      expect(textOf(chunks, 'text-delta')).toBe('Hello, world.')
      expect(chunks.filter((chunk) => chunk.type === 'text-delta').length).toBeGreaterThanOrEqual(1)
      expect(chunks.filter((chunk) => chunk.type === 'finish')).toEqual([{ type: 'finish', reason: 'stop' }])
      expect(chunks.at(-1)).toEqual({ type: 'finish', reason: 'stop' })
      expect(chunks.some((chunk) => chunk.type === 'tool-call')).toBe(false)
    })

    it('streams reasoning on reasoning-delta chunks, apart from the text', async () => {
      const chunks = await collect([{ reasoning: 'The user ' }, { reasoning: 'greets me.' }, { text: 'Hi.' }])
      expect(textOf(chunks, 'reasoning-delta')).toBe('The user greets me.')
      expect(textOf(chunks, 'text-delta')).toBe('Hi.')
      const firstText = chunks.findIndex((chunk) => chunk.type === 'text-delta')
      const lastReasoning = chunks.findLastIndex((chunk) => chunk.type === 'reasoning-delta')
      expect(lastReasoning).toBeLessThan(firstText)
    })

    if (options.reasoningBlocks === true) {
      it('streams each reasoning block whole after its deltas: signed thinking and redacted thinking', async () => {
        const chunks = await collect([{ reasoning: 'Let me ' }, { reasoning: 'think.', signature: 'sig-1' }, { redactedReasoning: 'opaque==' }, { text: 'Done.' }])
        expect(textOf(chunks, 'reasoning-delta')).toBe('Let me think.')
        expect(textOf(chunks, 'text-delta')).toBe('Done.')
        const blocks = chunks.flatMap((chunk) => (chunk.type === 'reasoning-block' ? [chunk.block] : []))
        expect(blocks).toEqual([
          { type: 'thinking', thinking: 'Let me think.', signature: 'sig-1' },
          { type: 'redacted_thinking', data: 'opaque==' },
        ])
        const firstBlock = chunks.findIndex((chunk) => chunk.type === 'reasoning-block')
        expect(chunks.findLastIndex((chunk) => chunk.type === 'reasoning-delta')).toBeLessThan(firstBlock)
      })

      it('takes an assistant turn back with its reasoning blocks and tool calls, and the tool results', async () => {
        const chunks = await collect([{ text: 'It is sunny.' }], {
          tools: [weatherTool],
          messages: [
            { role: 'user', content: 'Weather in Paris?' },
            {
              role: 'assistant',
              content: '',
              reasoningBlocks: [
                { type: 'thinking', thinking: 'I should look.', signature: 'sig-2' },
                { type: 'redacted_thinking', data: 'opaque==' },
              ],
              toolCalls: [{ id: 'call_weather', name: 'get_weather', arguments: '{"city":"Paris"}' }],
            },
            { role: 'tool', toolCallId: 'call_weather', name: 'get_weather', content: 'sunny' },
            { role: 'user', content: 'And in short?' },
          ],
        })
        expect(textOf(chunks, 'text-delta')).toBe('It is sunny.')
      })
    }

    it('returns several tool calls with their ids, names and arguments, and finish `tool_calls`', async () => {
      const chunks = await collect(
        [
          { toolCall: { id: 'call_weather', name: 'get_weather', arguments: { city: 'Paris' } } },
          { toolCall: { id: 'call_time', name: 'get_time', arguments: { zone: 'Europe/Paris', precise: true } } },
        ],
        { tools: [weatherTool, timeTool] },
      )
      const calls = chunks.filter((chunk) => chunk.type === 'tool-call')
      expect(calls.map(({ id, name }) => ({ id, name }))).toEqual([
        { id: 'call_weather', name: 'get_weather' },
        { id: 'call_time', name: 'get_time' },
      ])
      expect(calls.map((call) => JSON.parse(call.arguments))).toEqual([{ city: 'Paris' }, { zone: 'Europe/Paris', precise: true }])
      expect(chunks.at(-1)).toEqual({ type: 'finish', reason: 'tool_calls' })
    })

    it('reports usage with cached input and reasoning tokens once, before the finish', async () => {
      const usage = { inputTokens: 1200, outputTokens: 80, cachedInputTokens: 1024, reasoningTokens: 32 }
      const chunks = await collect([{ text: 'Sure.' }, { usage }])
      const usages = chunks.filter((chunk) => chunk.type === 'usage')
      expect(usages).toEqual([{ type: 'usage', ...usage }])
      expect(chunks.findIndex((chunk) => chunk.type === 'usage')).toBeLessThan(chunks.findIndex((chunk) => chunk.type === 'finish'))
    })

    it('maps finish `length`', async () => {
      const chunks = await collect([{ text: 'Once upon a' }, { finish: 'length' }])
      expect(chunks.at(-1)).toEqual({ type: 'finish', reason: 'length' })
      expect(textOf(chunks, 'text-delta')).toBe('Once upon a')
    })

    for (const code of options.errorCodes ?? defaultErrorCodes) {
      it(`fails with \`${code}\` when the provider does`, async () => {
        await expect(collect([{ error: { code } }])).rejects.toMatchObject({ code })
      })
    }

    it('keeps what was streamed before the provider failed midway', async () => {
      const provider = await providerFor([{ text: 'Partial ' }, { text: 'answer' }, { error: { code: 'provider.unavailable' } }])
      const chunks: ModelChunk[] = []
      const reading = (async () => {
        for await (const chunk of provider.stream(request(), { signal: new AbortController().signal })) chunks.push(chunk)
      })()
      await expect(reading).rejects.toMatchObject({ code: 'provider.unavailable' })
      expect(textOf(chunks, 'text-delta')).toBe('Partial answer')
      expect(chunks.some((chunk) => chunk.type === 'finish')).toBe(false)
    })

    it('rejects with the abort reason when the signal aborts mid-stream, without waiting for the stream', async () => {
      // The script's pause outlasts any test timeout: only a reader that stops on the abort can finish.
      const provider = await providerFor([{ text: 'Before' }, { delay: 600_000 }, { text: 'after' }])
      const controller = new AbortController()
      const iterator = provider.stream(request(), { signal: controller.signal })[Symbol.asyncIterator]()
      const first = await iterator.next()
      expect(first.value).toEqual({ type: 'text-delta', text: 'Before' })
      const reason = new Error('The user pressed stop')
      setTimeout(() => controller.abort(reason), 20)
      await expect(iterator.next()).rejects.toBe(reason)
    })

    it('rejects with the abort reason at once when the signal is already aborted', async () => {
      const provider = await providerFor([{ text: 'Never sent' }])
      const controller = new AbortController()
      const reason = new Error('Cancelled before it began')
      controller.abort(reason)
      const iterator = provider.stream(request(), { signal: controller.signal })[Symbol.asyncIterator]()
      await expect(iterator.next()).rejects.toBe(reason)
    })
  })
}
