/**
 * Writing a summary of a session's older runs: one request to the
 * summarizer route, without tools, tried again on a retryable failure as a
 * model turn is. The transcript it is sent is cut to fit that route's window.
 */
import { sleep } from './abortable.js'
import { ProviderError, toErrorInfo } from './errors.js'
import { messageBytes, type HistoryRun } from './context-window.js'
import type { Message, Usage } from './model.js'
import { backoffMs, retryableCodes } from './backoff.js'
import type { ResolvedRoute } from './routes.js'

/** The system prompt of a summary request. */
export const summaryInstructions =
  'You summarize a conversation between a user and an assistant so that the assistant can go on without it. ' +
  'Keep every fact the user stated about themselves or their task (names, numbers, preferences, decisions), what was asked and answered, ' +
  'and any open question. Write plain sentences, no preamble. Start with the earlier summary, if there is one, updated.'

/** A written summary and what writing it cost. */
export interface WrittenSummary {
  summary: string
  usage: Usage
}

function transcriptLine(message: Message, maxChars: number): string {
  const content = message.content.length > maxChars ? `${message.content.slice(0, maxChars)} […]` : message.content
  switch (message.role) {
    case 'user':
      return `User: ${content}`
    case 'assistant': {
      const calls = message.toolCalls?.map((call) => `${call.name}(${call.arguments.length > maxChars ? `${call.arguments.slice(0, maxChars)} […]` : call.arguments})`).join(', ')
      return calls === undefined || calls === '' ? `Assistant: ${content}` : `Assistant: ${content}${content === '' ? '' : ' '}[called ${calls}]`
    }
    case 'tool':
      return `Tool ${message.name} returned: ${content}`
    case 'system':
      return `System: ${content}`
  }
}

/**
 * The text a summarizer is sent: the earlier summary, then the runs' messages
 * as lines. Each message is cut so the whole stays within `maxBytes` (the
 * earlier summary is kept whole: it is what carries the oldest facts).
 */
export function transcript(previous: string | undefined, runs: readonly HistoryRun[], maxBytes: number): string {
  const head = previous === undefined ? '' : `Earlier summary:\n${previous}\n\nConversation since:\n`
  const messages = runs.flatMap((run) => run.messages)
  let total = 0
  for (const message of messages) total += messageBytes(message)
  const room = Math.max(0, maxBytes - Buffer.byteLength(head))
  // Cut every message to the same length, as long as the room allows; at least 200 characters each.
  const maxChars = total <= room ? Number.POSITIVE_INFINITY : Math.max(200, Math.floor(room / Math.max(1, messages.length)) - 40)
  return head + messages.map((message) => transcriptLine(message, maxChars)).join('\n')
}

/**
 * Asks `route` for a summary of `previous` and `runs`; at most `maxChars`
 * of it are kept. Throws the last failure when every attempt failed, or
 * when `signal` aborts.
 */
export async function writeSummary(route: ResolvedRoute, previous: string | undefined, runs: readonly HistoryRun[], maxChars: number, signal: AbortSignal): Promise<WrittenSummary> {
  const window = route.contextWindow
  const maxBytes = window === undefined ? 400_000 : Math.max(2000, Math.floor(window * 4 * 0.6))
  const messages: Message[] = [
    { role: 'system', content: summaryInstructions },
    { role: 'user', content: transcript(previous, runs, maxBytes) },
  ]
  for (let attempt = 1; ; attempt++) {
    try {
      let text = ''
      let usage: Usage = { inputTokens: 0, outputTokens: 0 }
      for await (const chunk of route.provider.stream({ model: route.model, messages, tools: [] }, { signal, attempt })) {
        if (chunk.type === 'text-delta') text += chunk.text
        else if (chunk.type === 'usage') usage = chunk
      }
      signal.throwIfAborted()
      const summary = text.trim()
      if (summary === '') throw new ProviderError('provider.bad_response', `Route ${route.id} wrote an empty summary`)
      return { summary: summary.length > maxChars ? `${summary.slice(0, maxChars)} […]` : summary, usage }
    } catch (error) {
      if (signal.aborted || attempt >= route.retry.maxAttempts || !retryableCodes.has(toErrorInfo(error).code)) throw error
      await sleep(backoffMs(route.retry, attempt, (error as ProviderError).retryAfterMs), signal)
    }
  }
}
