/**
 * When a JSON Schema may be sent with `strict: true`. OpenAI's strict mode
 * (Structured Outputs) only takes schemas where every object lists all of its
 * properties as required and forbids others; a schema that does not qualify is
 * sent non-strict rather than rewritten, so its meaning never changes.
 */
import type { JsonSchema } from '../../src/model.js'

const subschemaLists = ['anyOf', 'allOf', 'oneOf', 'prefixItems'] as const
const subschemaMaps = ['properties', '$defs', 'definitions', 'patternProperties'] as const

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function isObjectSchema(schema: Record<string, unknown>): boolean {
  const type = schema.type
  return type === 'object' || (Array.isArray(type) && type.includes('object')) || isRecord(schema.properties)
}

function qualifies(schema: unknown): boolean {
  if (typeof schema === 'boolean') return true
  if (!isRecord(schema)) return false
  if (isObjectSchema(schema)) {
    if (schema.additionalProperties !== false) return false
    const properties = isRecord(schema.properties) ? Object.keys(schema.properties) : []
    const required = Array.isArray(schema.required) ? new Set(schema.required) : new Set()
    if (!properties.every((name) => required.has(name))) return false
  }
  for (const key of subschemaLists) {
    const list = schema[key]
    if (Array.isArray(list) && !list.every(qualifies)) return false
  }
  for (const key of subschemaMaps) {
    const map = schema[key]
    if (isRecord(map) && !Object.values(map).every(qualifies)) return false
  }
  if (schema.items !== undefined && !qualifies(schema.items)) return false
  if (schema.not !== undefined && !qualifies(schema.not)) return false
  return true
}

/**
 * True when `schema` can be sent with `strict: true`: its root is an object
 * schema, and every object schema in it (nested, in arrays, in `anyOf`, in
 * `$defs`) has `additionalProperties: false` and lists every property in
 * `required`. zod 4 gives this for `z.strictObject` without optional fields.
 */
export function isStrictCompatible(schema: JsonSchema): boolean {
  return isRecord(schema) && isObjectSchema(schema) && qualifies(schema)
}

const schemaNamePattern = /[^A-Za-z0-9_-]/g

/** A response format name OpenAI accepts: letters, digits, `_` and `-`, at most 64. */
export function toSchemaName(name: string): string {
  const cleaned = name.replace(schemaNamePattern, '_').slice(0, 64)
  return cleaned === '' ? 'output' : cleaned
}
