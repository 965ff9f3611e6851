/**
 * What the Chat Completions request carries: the conversation, tools as JSON
 * Schema from their zod schemas, the output schema as `response_format`, and
 * when `strict` is set.
 */
import { describe, expect, it } from 'vitest'
import { z } from 'zod'
import { isStrictCompatible, openaiProvider } from '../../adapters/openai/index.js'
import type { ModelRequest } from '../../src/model.js'
import { toJsonSchema, tool, toToolSpec } from '../../src/tools.js'
import { toChatReply } from './wire-script.js'
import { useFakeOpenAIServer } from './use-fake-server.js'

const server = useFakeOpenAIServer({ defaultReply: () => toChatReply([{ text: 'ok' }]) })

async function sent(request: ModelRequest): Promise<any> {
  const provider = openaiProvider({ apiKey: 'sk-test', baseURL: server.baseURL, maxRetries: 0 })
  for await (const _ of provider.stream(request, { signal: new AbortController().signal })) void _
  return server.requests.at(-1)?.body
}

const refund = tool({
  name: 'refund_order',
  description: 'Refunds an order',
  input: z.strictObject({ orderId: z.string(), amount: z.number() }),
  execute: () => 'refunded',
})
const search = tool({
  name: 'search_orders',
  description: 'Finds orders',
  input: z.object({ query: z.string(), limit: z.number().optional() }),
  execute: () => [],
})

describe('the Chat Completions request', () => {
  it('maps the conversation and drops hearth’s own message fields', async () => {
    const body = await sent({
      model: 'gpt-4o-mini',
      messages: [
        { role: 'system', content: 'You refund orders.', createdAt: '2026-01-01T00:00:00.000Z' },
        { role: 'user', content: 'Refund 42 and 43', fromHistory: true },
        {
          role: 'assistant',
          content: '',
          reasoningContent: 'Two refunds.',
          usage: { inputTokens: 1, outputTokens: 1 },
          toolCalls: [
            { id: 'call_1', name: 'refund_order', arguments: '{"orderId":"42","amount":10}' },
            { id: 'call_2', name: 'refund_order', arguments: '{"orderId":"43","amount":5}' },
          ],
        },
        { role: 'tool', toolCallId: 'call_1', name: 'refund_order', content: '"refunded"' },
        { role: 'tool', toolCallId: 'call_2', name: 'refund_order', content: 'Order not found', isError: true, stopAfterToolCall: false },
        { role: 'assistant', content: 'One refund done.', toolCalls: [] },
      ],
      tools: [],
    })
    expect(body.messages).toEqual([
      { role: 'system', content: 'You refund orders.' },
      { role: 'user', content: 'Refund 42 and 43' },
      {
        role: 'assistant',
        content: null,
        tool_calls: [
          { id: 'call_1', type: 'function', function: { name: 'refund_order', arguments: '{"orderId":"42","amount":10}' } },
          { id: 'call_2', type: 'function', function: { name: 'refund_order', arguments: '{"orderId":"43","amount":5}' } },
        ],
      },
      { role: 'tool', tool_call_id: 'call_1', content: '"refunded"' },
      { role: 'tool', tool_call_id: 'call_2', content: 'Order not found' },
      { role: 'assistant', content: 'One refund done.' },
    ])
    expect(body).not.toHaveProperty('tools')
    expect(body).not.toHaveProperty('response_format')
  })

  it('sends tools as JSON Schema from their zod schemas, strict only where the schema allows', async () => {
    const body = await sent({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'Hi' }],
      tools: [toToolSpec(refund), toToolSpec(search)],
    })
    expect(body.tools).toEqual([
      {
        type: 'function',
        function: {
          name: 'refund_order',
          description: 'Refunds an order',
          parameters: {
            type: 'object',
            properties: { orderId: { type: 'string' }, amount: { type: 'number' } },
            required: ['orderId', 'amount'],
            additionalProperties: false,
          },
          strict: true,
        },
      },
      {
        type: 'function',
        function: {
          name: 'search_orders',
          description: 'Finds orders',
          parameters: { type: 'object', properties: { query: { type: 'string' }, limit: { type: 'number' } }, required: ['query'] },
        },
      },
    ])
  })

  it('sends the output schema as response_format json_schema', async () => {
    const schema = toJsonSchema(z.strictObject({ answer: z.string(), confidence: z.number() }))
    const body = await sent({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'Hi' }],
      tools: [],
      responseFormat: { name: 'support@1 output', schema },
    })
    expect(body.response_format).toEqual({ type: 'json_schema', json_schema: { name: 'support_1_output', schema, strict: true } })
  })
})

describe('isStrictCompatible', () => {
  const strict = (schema: z.ZodType): boolean => isStrictCompatible(toJsonSchema(schema))

  it('takes strict objects whose properties are all required, nested, in arrays and unions', () => {
    expect(strict(z.strictObject({ a: z.string() }))).toBe(true)
    expect(strict(z.strictObject({ items: z.array(z.strictObject({ b: z.boolean() })) }))).toBe(true)
    expect(strict(z.strictObject({ pick: z.union([z.strictObject({ x: z.number() }), z.string()]) }))).toBe(true)
    expect(strict(z.strictObject({ maybe: z.string().nullable() }))).toBe(true)
  })

  it('refuses objects that allow other properties, optional properties, and roots that are not objects', () => {
    expect(strict(z.object({ a: z.string() }))).toBe(false)
    expect(strict(z.strictObject({ a: z.string().optional() }))).toBe(false)
    expect(strict(z.strictObject({ inner: z.object({ b: z.string() }) }))).toBe(false)
    expect(strict(z.strictObject({ list: z.array(z.object({ b: z.string() })) }))).toBe(false)
    expect(strict(z.string())).toBe(false)
  })
})
