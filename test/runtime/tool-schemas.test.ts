/**
 * Tool input schemas: zod 4 (`zod` and `zod/mini`) and raw JSON Schema
 * through jsonSchema(), each sent to the model and validating its
 * arguments; a zod 3 schema, a non-object schema and JSON Schema zod cannot
 * express each refused with a TypeError that says so.
 */
import { describe, expect, it } from 'vitest'
import { z } from 'zod'
import * as mini from 'zod/mini'
import { z as z3 } from 'zod/v3'
import { jsonSchema, tool, type RunEvent } from '../../src/index.js'
import { callTools, reply } from '../../src/testing/index.js'
import { collect, openRuntime } from '../helpers.js'

const results = (events: readonly RunEvent[]) => events.flatMap((event) => (event.type === 'tool.result' ? [event.data] : []))

async function callTwice(definition: ReturnType<typeof tool>, good: unknown, bad: unknown) {
  const { runtime, model } = await openRuntime([callTools({ name: definition.name, arguments: good }, { name: definition.name, arguments: bad }), reply('done')], {
    agent: { tools: [definition] },
  })
  const run = await runtime.createRun({ input: 'go' })
  expect((await run.result()).status).toBe('completed')
  const all = results(await collect(runtime.runEvents(run.id)))
  await runtime.close()
  // Results commit as calls finish: the refused call first.
  const found = [all.find((result) => !result.is_error), all.find((result) => result.is_error)]
  return { found, sent: model.requests[0]?.tools[0] }
}

describe('tool input schemas', () => {
  it('takes a zod/mini object schema: sent as JSON Schema, arguments validated', async () => {
    const add = tool({ name: 'add', input: mini.object({ a: mini.number(), b: mini.number() }), execute: ({ a, b }) => a + b })
    const { found, sent } = await callTwice(add, { a: 2, b: 3 }, { a: 'two' })
    expect(sent?.parameters).toMatchObject({ type: 'object', properties: { a: { type: 'number' }, b: { type: 'number' } }, required: ['a', 'b'] })
    expect(found[0]).toMatchObject({ output: 5, is_error: false })
    expect(found[1]).toMatchObject({ is_error: true, error_code: 'tool.invalid_arguments' })
  })

  it('takes raw JSON Schema through jsonSchema(): sent as given, arguments validated by what it says', async () => {
    const schema = {
      $schema: 'https://json-schema.org/draft/2020-12/schema',
      type: 'object',
      properties: { city: { type: 'string', minLength: 2 }, days: { type: 'integer', minimum: 1, maximum: 7 } },
      required: ['city'],
      additionalProperties: false,
    }
    const forecast = tool({ name: 'forecast', input: jsonSchema<{ city: string; days?: number }>(schema), execute: ({ city, days }) => `${city}: ${days ?? 1} day(s) of sun` })
    const { found, sent } = await callTwice(forecast, { city: 'Paris', days: 3 }, { city: 'Paris', days: 9 })
    const { $schema: _dropped, ...given } = schema
    expect(sent?.parameters).toEqual(given)
    expect(found[0]).toMatchObject({ output: 'Paris: 3 day(s) of sun', is_error: false })
    expect(found[1]).toMatchObject({ is_error: true, error_code: 'tool.invalid_arguments' })
  })

  it('refuses a zod 3 schema, saying it is zod 3', () => {
    expect(() => tool({ name: 'old', input: z3.object({ a: z3.string() }) as never, execute: () => 1 })).toThrow(/got a zod 3 schema: hearth needs zod 4/)
  })

  it('refuses a schema that is not of an object, and anything that is not a schema', () => {
    expect(() => tool({ name: 'text', input: z.string(), execute: () => 1 })).toThrow(/to be an object schema .* got a schema of type `string`/)
    expect(() => tool({ name: 'plain', input: { type: 'object' } as never, execute: () => 1 })).toThrow(/to be a zod 4 schema or jsonSchema/)
  })

  it('refuses JSON Schema zod cannot express, naming what, and JSON Schema of another type', () => {
    expect(() => jsonSchema({ type: 'object', if: { properties: { a: { const: 1 } } }, then: { required: ['b'] } })).toThrow(/if\/then\/else/)
    expect(() => jsonSchema({ type: 'object', properties: { a: { $ref: 'https://example.com/a.json' } } })).toThrow(/External \$ref/)
    expect(() => jsonSchema({ type: 'string' })).toThrow(/of type `object`/)
    expect(() => jsonSchema(null as never)).toThrow(/JSON Schema object/)
  })
})
