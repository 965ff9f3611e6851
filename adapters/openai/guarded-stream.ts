/**
 * Reading the `openai` client's streams so that an aborted signal ends the
 * iteration at once (with the abort reason, never a provider error), a
 * silent connection fails with `provider.timeout`, and every other failure
 * becomes a `ProviderError`.
 */
import { ProviderError } from '../../src/errors.js'

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
