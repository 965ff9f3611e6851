/**
 * For provider adapters: reading an SDK client's stream so that an aborted
 * signal ends the iteration at once (with the abort reason, never a provider
 * error), a silent connection fails with `provider.timeout`, and every other
 * failure becomes a `ProviderError`; and the wait a `Retry-After` asks for.
 * The `openai` and `@anthropic-ai/sdk` clients share these shapes.
 */
import { ProviderError } from './errors.js'

/** A stream the client returned: iterable, with the controller of its HTTP request. */
export interface ClientStream<T> extends AsyncIterable<T> {
  readonly controller: AbortController
}

/** Resolves with `promise`, or rejects with the abort reason as soon as `signal` aborts. */
export async function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) throw signal.reason
  let onAbort: (() => void) | undefined
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => reject(signal.reason)
    signal.addEventListener('abort', onAbort, { once: true })
  })
  try {
    return await Promise.race([promise, aborted])
  } finally {
    if (onAbort !== undefined) signal.removeEventListener('abort', onAbort)
  }
}

/**
 * Sends the request `start` makes and iterates its stream. `idleTimeoutMs` is
 * how long to wait for the next piece after the response began; `toProviderError`
 * maps what the client throws.
 */
export async function* guardedStream<T>(
  start: () => Promise<ClientStream<T>>,
  signal: AbortSignal,
  idleTimeoutMs: number,
  toProviderError: (error: unknown) => ProviderError,
): AsyncGenerator<T> {
  let stream: ClientStream<T>
  try {
    stream = await untilAborted(start(), signal)
  } catch (error) {
    if (signal.aborted) throw signal.reason
    throw toProviderError(error)
  }
  const iterator = stream[Symbol.asyncIterator]()
  let completed = false
  try {
    while (true) {
      let timer: NodeJS.Timeout | undefined
      const silence = new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new ProviderError('provider.timeout', `The provider sent nothing for ${idleTimeoutMs} ms mid-stream`)),
          idleTimeoutMs,
        )
      })
      let result: IteratorResult<T>
      try {
        result = await untilAborted(Promise.race([iterator.next(), silence]), signal)
      } catch (error) {
        if (signal.aborted) throw signal.reason
        throw toProviderError(error)
      } finally {
        clearTimeout(timer)
      }
      if (result.done) break
      yield result.value
    }
    // The client ends its iteration quietly when its request is aborted.
    if (signal.aborted) throw signal.reason
    completed = true
  } finally {
    if (!completed) {
      stream.controller.abort()
      iterator.return?.().catch(() => undefined)
    }
  }
}

/**
 * The wait a provider asked for, in ms: `retry-after-ms`, else `retry-after`
 * in seconds or as an HTTP date; undefined without a usable one.
 */
export function retryAfterMsOf(headers: { get(name: string): string | null } | undefined, nowMs = Date.now()): number | undefined {
  const milliseconds = Number.parseFloat(headers?.get('retry-after-ms') ?? '')
  if (Number.isFinite(milliseconds) && milliseconds >= 0) return Math.round(milliseconds)
  const value = headers?.get('retry-after')?.trim()
  if (value === undefined || value === '') return undefined
  const seconds = Number(value)
  if (Number.isFinite(seconds)) return seconds >= 0 ? Math.round(seconds * 1000) : undefined
  const date = Date.parse(value)
  return Number.isNaN(date) ? undefined : Math.max(0, date - nowMs)
}

/** An environment variable, trimmed; undefined when unset or blank. */
export function environmentVariable(name: string): string | undefined {
  const value = process.env[name]?.trim()
  return value === undefined || value === '' ? undefined : value
}

/**
 * `load` made once and shared by every caller (an SDK loaded and its client
 * built on the first request); a load that fails is forgotten, so the next
 * call tries again (installing a missing peer needs no restart).
 */
export function loadOnce<T>(load: () => Promise<T>): () => Promise<T> {
  let loaded: Promise<T> | undefined
  return () => {
    if (loaded === undefined) {
      const loading = load()
      loaded = loading
      loading.catch(() => {
        if (loaded === loading) loaded = undefined
      })
    }
    return loaded
  }
}
