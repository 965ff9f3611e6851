/**
 * Reading a request: the JSON body, never more than a cap, and zod checks
 * that turn a client's mistake into `validation.invalid` with the issues in
 * `details`.
 */
import type { z } from 'zod'
import { ValidationError } from '../../src/errors.js'

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

/**
 * The JSON object of the body. An empty body is `{}`; anything but a JSON
 * object is `validation.invalid`.
 */
export async function readJsonObject(request: Request, maxBytes: number): Promise<Record<string, unknown>> {
  const text = await readBodyText(request, maxBytes)
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
  return value as Record<string, unknown>
}
