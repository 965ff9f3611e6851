/**
 * Reading a request: the JSON body, never more than a cap, and zod checks
 * that turn a client's mistake into `validation.invalid` with the issues in
 * `details`.
 */
import type { z } from 'zod'
import { ValidationError } from '../../src/errors.js'
import { hasLoneSurrogate } from '../../src/validate.js'

/** The issues of a failed zod check, as `details.issues`. */
function issuesOf(error: z.ZodError): { path: string; message: string }[] {
  return error.issues.map((issue) => ({ path: issue.path.map(String).join('.'), message: issue.message }))
}

/** Checks `value` against `schema`; `validation.invalid` naming the first problem otherwise. */
export function parseWith<Schema extends z.ZodType>(schema: Schema, value: unknown, where: string): z.output<Schema> {
  const result = schema.safeParse(value)
  if (result.success) return result.data
  const issues = issuesOf(result.error)
  const first = issues[0]
  const message = first === undefined ? `Invalid ${where}` : `Invalid ${where}${first.path === '' ? '' : ` \`${first.path}\``}: ${first.message}`
  throw new ValidationError(message, { details: { issues } })
}

/** True when the request's `Content-Type` is `application/json` (any parameters, any case). */
function isJson(request: Request): boolean {
  const type = request.headers.get('content-type')
  return type !== null && type.split(';', 1)[0]?.trim().toLowerCase() === 'application/json'
}

function notJson(request: Request): ValidationError {
  const type = request.headers.get('content-type')
  const given = type === null ? 'no Content-Type' : `Content-Type \`${type.slice(0, 100)}\``
  return new ValidationError(`Expected a JSON body with Content-Type \`application/json\`, got ${given}`, {
    code: 'validation.content_type',
    details: { content_type: type === null ? null : type.slice(0, 100) },
  })
}

/** True when the headers announce a body: a `Content-Length` above 0, or a `Transfer-Encoding`. */
function announcesBody(request: Request): boolean {
  const length = request.headers.get('content-length')
  return request.headers.has('transfer-encoding') || (length !== null && length.trim() !== '0')
}

/**
 * Throws `validation.content_type` (415) for a request whose headers
 * announce a body that is not `application/json`: a form or `text/plain`
 * body is what a page of another site can send without a preflight.
 */
export function checkBodyType(request: Request): void {
  if (announcesBody(request) && !isJson(request)) throw notJson(request)
}

function tooLarge(maxBytes: number): ValidationError {
  return new ValidationError(`The request body is larger than ${maxBytes} bytes`, { code: 'validation.too_large', details: { max_bytes: maxBytes } })
}

/** Reads at most `maxBytes` of the body; `validation.too_large` as soon as it is longer. */
export async function readBodyText(request: Request, maxBytes: number): Promise<string> {
  const declared = request.headers.get('content-length')
  if (declared !== null && Number(declared) > maxBytes) {
    await request.body?.cancel().catch(() => {})
    throw tooLarge(maxBytes)
  }
  const body = request.body
  if (body === null) return ''
  const reader = body.getReader()
  const chunks: Uint8Array[] = []
  let size = 0
  for (;;) {
    let result: Awaited<ReturnType<typeof reader.read>>
    try {
      result = await reader.read()
    } catch {
      throw new ValidationError('The request body could not be read')
    }
    if (result.done) break
    size += result.value.byteLength
    if (size > maxBytes) {
      await reader.cancel().catch(() => {})
      throw tooLarge(maxBytes)
    }
    chunks.push(result.value)
  }
  const bytes = new Uint8Array(size)
  let offset = 0
  for (const chunk of chunks) {
    bytes.set(chunk, offset)
    offset += chunk.byteLength
  }
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes)
  } catch {
    throw new ValidationError('The request body is not valid UTF-8')
  }
}

/** A `\uD800`-`\uDFFF` escape: the only way a surrogate gets into parsed JSON, as UTF-8 text cannot carry one. */
const surrogateEscape = /\\u[dD][89a-fA-F]/

/** One value on the way through a parsed body, and how it was reached. */
interface Visit {
  value: unknown
  key: string | number
  parent: Visit | undefined
}

function pathOf(visit: Visit): (string | number)[] {
  const path: (string | number)[] = []
  for (let at: Visit | undefined = visit; at?.parent !== undefined; at = at.parent) path.push(at.key)
  return path.reverse()
}

/**
 * The path of the first string (value or key) with an unpaired surrogate,
 * e.g. `['metadata', 'note']`; undefined when there is none. Iterative, so
 * a deeply nested body cannot overflow the stack.
 */
function loneSurrogatePath(root: unknown): (string | number)[] | undefined {
  const stack: Visit[] = [{ value: root, key: '', parent: undefined }]
  for (let visit = stack.pop(); visit !== undefined; visit = stack.pop()) {
    const value = visit.value
    if (typeof value === 'string') {
      if (hasLoneSurrogate(value)) return pathOf(visit)
    } else if (Array.isArray(value)) {
      for (let index = value.length - 1; index >= 0; index--) stack.push({ value: value[index], key: index, parent: visit })
    } else if (typeof value === 'object' && value !== null) {
      const entries = Object.entries(value)
      for (let index = entries.length - 1; index >= 0; index--) {
        const [key, item] = entries[index] as [string, unknown]
        const member: Visit = { value: item, key, parent: visit }
        if (hasLoneSurrogate(key)) return pathOf(member)
        stack.push(member)
      }
    }
  }
  return undefined
}

/**
 * The JSON object of the body. An empty body is `{}`; a body that is not
 * `application/json` is `validation.content_type`; anything but a JSON
 * object, or a string or key with an unpaired UTF-16 surrogate (details
 * `{ path }`, e.g. `['metadata', 'note']`), is `validation.invalid`.
 */
export async function readJsonObject(request: Request, maxBytes: number): Promise<Record<string, unknown>> {
  const text = await readBodyText(request, maxBytes)
  // A Request made in-process (Electron, Hono) may carry a body its headers do not announce.
  if (text !== '' && !isJson(request)) throw notJson(request)
  if (text.trim() === '') return {}
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch (error) {
    throw new ValidationError(`The request body is not valid JSON: ${(error as Error).message}`)
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ValidationError('Expected the request body to be a JSON object')
  }
  // Stored as is, an unpaired surrogate would come back as U+FFFD: refuse it rather than change the text.
  const path = surrogateEscape.test(text) ? loneSurrogatePath(value) : undefined
  if (path !== undefined) {
    throw new ValidationError(`The request body has an unpaired UTF-16 surrogate at \`${path.join('.')}\`; escape whole pairs only`, { details: { path } })
  }
  return value as Record<string, unknown>
}
