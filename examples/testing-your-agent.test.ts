/**
 * How to test your own agent: give the runtime a scripted model that plays
 * the turns you expect, then assert on the events and the run record. No
 * network, no API key, deterministic.
 */
import { Runtime, tool } from 'hearth-runtime'
import { callTools, reply, scriptedModel } from 'hearth-runtime/testing'
import { describe, expect, it } from 'vitest'
import { z } from 'zod'

// The agent under test: a support agent that can look up orders and refund them (with confirmation).
const orders = new Map([['42', { total: 30, refunded: false }]])
const lookupOrder = tool({
  name: 'lookup_order',
  description: 'Finds an order by id',
  input: z.object({ orderId: z.string() }),
  execute: ({ orderId }) => orders.get(orderId) ?? { error: 'no such order' },
})
const refund = tool({
  name: 'refund',
  description: 'Refunds an order',
  input: z.object({ orderId: z.string() }),
  needsConfirmation: true,
  execute: ({ orderId }) => {
    const order = orders.get(orderId)
    if (order === undefined) throw new Error('no such order')
    order.refunded = true
    return { refunded: orderId }
  },
})
const support = { key: 'support', version: 1, instructions: 'Help with orders.', tools: [lookupOrder, refund] }

describe('the support agent', () => {
  it('refunds an order once the user confirms', async () => {
    const model = scriptedModel([
      callTools({ name: 'lookup_order', arguments: { orderId: '42' } }),
      callTools({ name: 'refund', arguments: { orderId: '42' } }),
      reply('Order 42 is refunded.'),
    ])
    const runtime = await Runtime.open({
      providers: { model },
      routes: { default: { provider: 'model', model: 'any' } },
      agents: [support],
    })
    const session = await runtime.createSession({ userId: 'customer-1' })
    const run = await runtime.createRun(session.id, { input: 'Please refund order 42' })

    for await (const event of run.events()) {
      if (event.type === 'run.waiting_for_input') {
        expect(event.data.requests[0]).toMatchObject({ tool: 'refund', arguments: { orderId: '42' } })
        expect(orders.get('42')?.refunded).toBe(false)
        await runtime.submitInput(run.id, { content: 'yes' })
      }
    }

    const done = await run.result()
    expect(done.status).toBe('completed')
    expect(done.content).toBe('Order 42 is refunded.')
    expect(orders.get('42')?.refunded).toBe(true)
    // The model saw the lookup result before it asked for the refund.
    expect(model.requests[1]?.messages.at(-1)).toMatchObject({ role: 'tool', name: 'lookup_order' })
    await runtime.close()
  })
})
