/**
 * Small argument checks that throw `validation.invalid` with a precise message.
 */
import { ValidationError } from './errors.js'
import type { JsonObject } from './events.js'
import type { Caller } from './store.js'

function describe(value: unknown): string {
  if (typeof value === 'string') return `"${value.length > 40 ? `${value.slice(0, 40)}...` : value}"`
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'an array'
  return typeof value === 'object' ? 'an object' : String(value)
}

/** Throws unless `value` is a plain object (or undefined when optional). */
export function checkObject(value: unknown, name: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ValidationError(`Expected \`${name}\` to be an object, got ${describe(value)}`)
  }
  return value as Record<string, unknown>
}

/** Throws unless `value` is a string (or undefined). */
export function optionalString(value: unknown, name: string, { nonEmpty = false } = {}): string | undefined {
  if (value === undefined) return undefined
  if (typeof value !== 'string' || (nonEmpty && value === '')) {
    throw new ValidationError(`Expected \`${name}\` to be a${nonEmpty ? ' non-empty' : ''} string, got ${describe(value)}`)
  }
  return value
}

/**
 * A reference where empty means the default: undefined for undefined, null
 * and `''`; otherwise the string. Anything else is `validation.invalid`.
 */
export function optionalReference(value: unknown, name: string): string | undefined {
  if (value === undefined || value === null || value === '') return undefined
  if (typeof value !== 'string') throw new ValidationError(`Expected \`${name}\` to be a string, null or '' (the default), got ${describe(value)}`)
  return value
}

/** Throws unless `value` is a JSON object (or undefined). */
export function optionalJsonObject(value: unknown, name: string): JsonObject | undefined {
  if (value === undefined) return undefined
  checkObject(value, name)
  try {
    return JSON.parse(JSON.stringify(value)) as JsonObject
  } catch {
    throw new ValidationError(`Expected \`${name}\` to be JSON-serialisable`)
  }
}

/** Throws unless `value` is one of `choices` (or undefined). */
export function optionalChoice<T extends string>(value: unknown, name: string, choices: readonly T[]): T | undefined {
  if (value === undefined) return undefined
  if (typeof value !== 'string' || !choices.includes(value as T)) {
    throw new ValidationError(`Expected \`${name}\` to be one of ${choices.map((choice) => `'${choice}'`).join(', ')}, got ${describe(value)}`)
  }
  return value as T
}

/** A page size: 1 to 100, default 20. */
export function pageLimit(value: unknown): number {
  if (value === undefined) return 20
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > 100) {
    throw new ValidationError(`Expected \`limit\` to be an integer from 1 to 100, got ${describe(value)}`)
  }
  return value
}

/** Throws unless `value` is a caller `{ userId, name?, email? }` (or undefined). */
export function optionalCaller(value: unknown, name: string): Caller | undefined {
  if (value === undefined) return undefined
  const object = checkObject(value, name)
  const userId = object.userId
  if (userId !== null && typeof userId !== 'string') throw new ValidationError(`Expected \`${name}.userId\` to be a string or null`)
  const caller: Caller = { userId }
  const display = optionalString(object.name, `${name}.name`)
  const email = optionalString(object.email, `${name}.email`)
  if (display !== undefined) caller.name = display
  if (email !== undefined) caller.email = email
  return caller
}

const encoder = new TextEncoder()

/** UTF-8 length of a string, counted without allocating for ASCII-only text. */
export function utf8Length(text: string): number {
  // ASCII text is one byte per character: no need to encode it.
  let ascii = true
  for (let index = 0; index < text.length; index++) {
    if (text.charCodeAt(index) > 0x7f) {
      ascii = false
      break
    }
  }
  return ascii ? text.length : encoder.encode(text).length
}

/** An unpaired UTF-16 surrogate: a code point that has no UTF-8 form and would be stored as U+FFFD. */
const loneSurrogate = /\p{Cs}/u

/** True when `text` has an unpaired UTF-16 surrogate (a well-formed pair is one code point, not a match). */
export function hasLoneSurrogate(text: string): boolean {
  return loneSurrogate.test(text)
}

/** Throws `validation.invalid`, details `{ path: [name] }`, when `text` has an unpaired UTF-16 surrogate. */
export function checkWellFormed(text: string, name: string): void {
  if (loneSurrogate.test(text)) {
    throw new ValidationError(`\`${name}\` has an unpaired UTF-16 surrogate, which has no UTF-8 form`, { details: { path: [name] } })
  }
}
