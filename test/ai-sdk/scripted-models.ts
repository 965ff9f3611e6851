/**
 * ScriptedTurns (src/testing) as AI SDK language models, so the same scripts
 * drive `scriptedModel` and `aiSdkProvider`: version 3 through `ai@6`'s own
 * `MockLanguageModelV3`, version 2 as a hand-built model. Parts stream from a
 * ReadableStream that honours `delay` steps and is cancellable; an error step
 * first is an `APICallError` thrown by `doStream`, later an `error` part.
 */
import { APICallError } from 'ai'
import { MockLanguageModelV3 } from 'ai/test'
import type { ProviderErrorCode } from '../../src/errors.js'
import type { ScriptedTurn } from '../../src/testing/scripted-model.js'

/** How each provider error looks from an AI SDK provider: status, message, retryable. */
const callErrors: Readonly<Record<ProviderErrorCode, { statusCode: number; message: string; isRetryable: boolean }>> = {
  'provider.auth': { statusCode: 401, message: 'API key not valid', isRetryable: false },
  'provider.rate_limited': { statusCode: 429, message: 'Resource has been exhausted', isRetryable: true },
  'provider.unavailable': { statusCode: 503, message: 'The model is overloaded', isRetryable: true },
  'provider.context_length': { statusCode: 400, message: 'The input token count exceeds the maximum number of tokens allowed', isRetryable: false },
  'provider.bad_request': { statusCode: 400, message: 'Invalid value at temperature', isRetryable: false },
  'provider.bad_response': { statusCode: 404, message: 'models/nope is not found', isRetryable: false },
  'provider.timeout': { statusCode: 408, message: 'Request timed out', isRetryable: true },
}

/** What a test can see of a stream: whether it was cancelled. */
export interface StreamProbe {
  cancelled: boolean
}

export function callError(code: ProviderErrorCode, headers: Record<string, string> = {}): APICallError {
  const shape = callErrors[code]
  return new APICallError({ message: shape.message, url: 'https://models.example/v1', requestBodyValues: {}, statusCode: shape.statusCode, isRetryable: shape.isRetryable, responseHeaders: headers })
}

type Part = Record<string, unknown>

/** The parts of `turn` in version 3 or 2 shape, with delays and a trailing error kept in order. */
function partsOf(turn: ScriptedTurn, version: 'v2' | 'v3'): (Part | { delay: number } | { fail: ProviderErrorCode })[] {
  const out: (Part | { delay: number } | { fail: ProviderErrorCode })[] = [{ type: 'stream-start', warnings: [] }]
  let usage: { inputTokens: number; outputTokens: number; cachedInputTokens?: number; reasoningTokens?: number; cacheWriteInputTokens?: number } | undefined
  let finish: string | undefined
  let calls = 0
  let open: 'text' | 'reasoning' | undefined
  const close = (): void => {
    if (open !== undefined) out.push({ type: `${open}-end`, id: open })
    open = undefined
  }
  for (const step of turn) {
    if ('text' in step || 'reasoning' in step) {
      const kind = 'text' in step ? 'text' : 'reasoning'
      if (open !== kind) {
        close()
        open = kind
        out.push({ type: `${kind}-start`, id: kind })
      }
      out.push({ type: `${kind}-delta`, id: kind, delta: 'text' in step ? step.text : step.reasoning })
    } else if ('toolCall' in step) {
      close()
      calls++
      const id = step.toolCall.id ?? `call_sdk_${calls}`
      const input = typeof step.toolCall.arguments === 'string' ? step.toolCall.arguments : JSON.stringify(step.toolCall.arguments ?? {})
      out.push({ type: 'tool-input-start', id, toolName: step.toolCall.name }, { type: 'tool-input-delta', id, delta: input }, { type: 'tool-input-end', id })
      out.push({ type: 'tool-call', toolCallId: id, toolName: step.toolCall.name, input })
    } else if ('usage' in step) usage = step.usage
    else if ('delay' in step) out.push({ delay: step.delay })
    else if ('finish' in step) finish = step.finish
    else if ('error' in step) {
      out.push({ fail: (step.error as { code: ProviderErrorCode }).code })
      return out
    }
  }
  close()
  const reason = finish === 'length' ? 'length' : finish === 'content_filter' ? 'content-filter' : calls > 0 ? 'tool-calls' : 'stop'
  if (version === 'v3') {
    out.push({
      type: 'finish',
      finishReason: { unified: reason, raw: reason },
      usage: {
        inputTokens: { total: usage?.inputTokens, noCache: usage === undefined ? undefined : usage.inputTokens - (usage.cachedInputTokens ?? 0), cacheRead: usage?.cachedInputTokens, cacheWrite: usage?.cacheWriteInputTokens },
        outputTokens: { total: usage?.outputTokens, text: undefined, reasoning: usage?.reasoningTokens },
      },
    })
  } else {
    out.push({ type: 'finish', finishReason: reason, usage: { inputTokens: usage?.inputTokens, outputTokens: usage?.outputTokens, totalTokens: undefined, reasoningTokens: usage?.reasoningTokens, cachedInputTokens: usage?.cachedInputTokens } })
  }
  return out
}

/** A ReadableStream of `steps`: delays wait (a cancel ends the wait), a failure becomes an `error` part. */
function streamOf(steps: ReturnType<typeof partsOf>, probe: StreamProbe): ReadableStream<Part> {
  let index = 0
  let timer: NodeJS.Timeout | undefined
  return new ReadableStream<Part>({
    async pull(controller) {
      for (;;) {
        const step = steps[index++]
        if (step === undefined) return controller.close()
        if ('delay' in step) {
          await new Promise<void>((resolve) => (timer = setTimeout(resolve, step.delay as number)))
          continue
        }
        if ('fail' in step) return controller.enqueue({ type: 'error', error: callError(step.fail as ProviderErrorCode) })
        return controller.enqueue(step as Part)
      }
    },
    cancel() {
      probe.cancelled = true
      clearTimeout(timer)
    },
  })
}

/** `turn` as ai@6's MockLanguageModelV3 (specification v3). */
export function mockV3(turn: ScriptedTurn, probe: StreamProbe = { cancelled: false }): MockLanguageModelV3 {
  const steps = partsOf(turn, 'v3')
  const first = steps[1]
  return new MockLanguageModelV3({
    provider: 'mock.v3',
    modelId: 'mock-model',
    doStream: async () => {
      if (first !== undefined && 'fail' in first) throw callError(first.fail as ProviderErrorCode, { 'retry-after': '0' })
      return { stream: streamOf(steps, probe) as never }
    },
  })
}

/** `turn` as a hand-built language model of specification v2 (what `ai` 5 providers return). */
export function handmadeV2(turn: ScriptedTurn, probe: StreamProbe = { cancelled: false }) {
  const steps = partsOf(turn, 'v2')
  const first = steps[1]
  return {
    specificationVersion: 'v2' as const,
    provider: 'handmade.v2',
    modelId: 'v2-model',
    supportedUrls: {},
    doGenerate: () => Promise.reject(new Error('not used')),
    doStream: async () => {
      if (first !== undefined && 'fail' in first) throw callError(first.fail as ProviderErrorCode, { 'retry-after': '0' })
      return { stream: streamOf(steps, probe) }
    },
  }
}
