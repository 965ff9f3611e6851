import { describe, expect, it } from 'vitest'
import type { RunEvent } from '../../src/index.js'
import { applyEvent, createRunState, metricsData, metricsOf, openRequests, outputText, replayRunState, usageData } from '../../src/run-state.js'

let seq = 0
const at = (ms: number): string => new Date(ms).toISOString()
function event(type: RunEvent['type'], data: unknown, ms = 1_000): RunEvent {
  return { runId: 'run_1', sessionId: 'thr_1', seq: ++seq, type, data, createdAt: at(ms) } as RunEvent
}
const usage = (input: number, output: number, cached = 0, reasoning = 0) => ({
  input_tokens: input,
  output_tokens: output,
  cached_input_tokens: cached,
  reasoning_tokens: reasoning,
})
const call = (id: string, name = 'tool') => ({ id, name, arguments: '{}' })

describe('the run state fold', () => {
  it('keeps each completed turn as an assistant message with its usage, reasoning and calls, and sums the usage', () => {
    seq = 0
    const state = createRunState([{ role: 'user', content: 'hi', createdAt: at(0) }])
    applyEvent(state, event('message.delta', { content: 'par', channel: 'text' }), 1_000)
    applyEvent(state, event('message.delta', { content: 'think', channel: 'reasoning' }), 1_001)
    expect(state).toMatchObject({ partialText: 'par', partialReasoning: 'think' })
    applyEvent(state, event('message.completed', { role: 'assistant', content: 'part', reasoning_content: 'think', tool_calls: [], usage: usage(10, 5, 4, 2) }), 1_002)
    const blocks = [{ type: 'redacted_thinking', data: 'opaque' }]
    const written = { ...usage(20, 7, 1, 0), cache_write_input_tokens: 6 }
    applyEvent(state, event('message.completed', { role: 'assistant', content: 'two', reasoning_content: '', reasoning_blocks: blocks, tool_calls: [], usage: written }), 1_003)
    expect(state.messages.slice(1)).toEqual([
      { role: 'assistant', content: 'part', createdAt: at(1_000), reasoningContent: 'think', usage: { inputTokens: 10, outputTokens: 5, cachedInputTokens: 4, reasoningTokens: 2 } },
      { role: 'assistant', content: 'two', createdAt: at(1_000), reasoningBlocks: blocks, usage: { inputTokens: 20, outputTokens: 7, cachedInputTokens: 1, reasoningTokens: 0, cacheWriteInputTokens: 6 } },
    ])
    expect(state).toMatchObject({ turns: 2, partialText: '', partialReasoning: '', reasoning: ['think'], toolPhase: undefined, stepSeq: 4 })
    expect(state.usage).toEqual({ inputTokens: 30, outputTokens: 12, cachedInputTokens: 5, reasoningTokens: 2, cacheWriteInputTokens: 6 })
  })

  it('opens a tool phase on a turn with calls, and closes it with one tool message per call, in call order, once every call has its result', () => {
    seq = 0
    const state = createRunState([])
    applyEvent(state, event('message.completed', { role: 'assistant', content: '', tool_calls: [call('a', 'one'), call('b', 'two')], usage: usage(1, 1) }), 1)
    expect(state.messages[0]).toHaveProperty('toolCalls', [call('a', 'one'), call('b', 'two')])
    applyEvent(state, event('tool.call', { tool_call_id: 'a', name: 'one', arguments: {}, requires_confirmation: false }), 2)
    applyEvent(state, event('tool.call', { tool_call_id: 'b', name: 'two', arguments: {}, requires_confirmation: true }), 3)
    expect(state.toolPhase?.announced.size).toBe(2)
    expect(state.stepSeq).toBe(3)
    const requests = [{ kind: 'tool_confirmation', tool_call_id: 'b', tool: 'two', arguments: {}, prompt: 'ok?' }]
    applyEvent(state, event('run.waiting_for_input', { requests }), 4)
    expect(openRequests(state.toolPhase)).toEqual(requests)
    applyEvent(state, event('tool.result', { tool_call_id: 'b', name: 'two', output: { n: 2 }, is_error: true, error_code: 'tool.failed' }), 5)
    // One result of two: still open, and still asking.
    expect(state.toolPhase?.results.size).toBe(1)
    applyEvent(state, event('run.input_received', { tool_call_id: 'b', approved: false, content: 'no' }), 6)
    expect(openRequests(state.toolPhase)).toEqual([])
    expect(state.toolPhase?.answers.get('b')).toEqual({ approved: false, content: 'no' })
    applyEvent(state, event('tool.result', { tool_call_id: 'a', name: 'one', output: 'plain', is_error: false, stop_after_call: true }), 7)
    expect(state.toolPhase).toBeUndefined()
    expect(state.messages.slice(1)).toEqual([
      { role: 'tool', toolCallId: 'a', name: 'one', content: 'plain', createdAt: at(1_000), stopAfterToolCall: true },
      { role: 'tool', toolCallId: 'b', name: 'two', content: '{"n":2}', createdAt: at(1_000), isError: true },
    ])
    expect(state.stopContent).toBe('plain')
    expect(state.stepSeq).toBe(7)
  })

  it('lets no failed call stop the run, keeps the first stopping call’s output, and ignores a result outside a phase', () => {
    seq = 0
    const state = createRunState([])
    applyEvent(state, event('tool.result', { tool_call_id: 'x', name: 't', output: 'stray', is_error: false }), 1)
    expect(state.messages).toEqual([])
    expect(state.stepSeq).toBe(1)
    applyEvent(state, event('message.completed', { role: 'assistant', content: '', tool_calls: [call('a'), call('b'), call('c')], usage: usage(1, 1) }), 2)
    applyEvent(state, event('tool.result', { tool_call_id: 'a', name: 'tool', output: 'failed', is_error: true, stop_after_call: true }), 3)
    applyEvent(state, event('tool.result', { tool_call_id: 'b', name: 'tool', output: 'first', is_error: false, stop_after_call: true }), 4)
    applyEvent(state, event('tool.result', { tool_call_id: 'c', name: 'tool', output: 'second', is_error: false, stop_after_call: true }), 5)
    expect(state.stopContent).toBe('first')
    expect(state.messages.filter((message) => message.role === 'tool' && message.stopAfterToolCall === true)).toHaveLength(2)
  })

  it('voids the partial turn on run.resumed, and ends on each terminal event with its time', () => {
    for (const type of ['run.completed', 'run.failed', 'run.cancelled'] as const) {
      seq = 0
      const state = createRunState([])
      applyEvent(state, event('run.queued', { position: 1 }), 0)
      expect(state.stepSeq).toBe(0)
      applyEvent(state, event('run.started', { persona_id: 'a@1', route_id: 'default', model: 'm', model_provider: 'p' }), 100)
      applyEvent(state, event('message.delta', { content: 'half', channel: 'text' }), 130)
      applyEvent(state, event('message.delta', { content: 'thought', channel: 'reasoning' }), 140)
      applyEvent(state, event('run.resumed', { reason: 'recovered', discard_after_seq: 2 }), 150)
      expect(state).toMatchObject({ partialText: '', partialReasoning: '', stepSeq: 5, terminal: false })
      applyEvent(state, event(type, {}), 400)
      expect(state).toMatchObject({ terminal: true, endedAtMs: 400, stepSeq: 6, startedAtMs: 100 })
      expect(metricsOf(state, state.endedAtMs)).toMatchObject({ durationMs: 300 })
    }
  })

  it('replays a log with the times its events carry', () => {
    seq = 0
    const events = [
      event('run.started', { persona_id: 'a@1', route_id: 'default', model: 'm', model_provider: 'p' }, 5_000),
      event('message.delta', { content: 'x', channel: 'text' }, 5_020),
      event('message.completed', { role: 'assistant', content: 'x', tool_calls: [], usage: usage(3, 1), time_to_first_chunk_ms: 12 }, 5_030),
      event('message.completed', { role: 'assistant', content: 'y', tool_calls: [], usage: usage(3, 1), time_to_first_chunk_ms: 99 }, 5_040),
      event('run.completed', { content: 'x', metrics: {} }, 5_050),
    ]
    const state = replayRunState([{ role: 'user', content: 'u', createdAt: at(0) }], events)
    // The first turn's time to its first chunk is the run's.
    expect(state).toMatchObject({ startedAtMs: 5_000, firstTurnTtftMs: 12, endedAtMs: 5_050, turns: 2, terminal: true })
    expect(state.messages).toHaveLength(3)
  })
})

describe('metrics and usage as data', () => {
  it('measures from the start to the end, has no duration before both, and takes the first turn’s time to first chunk', () => {
    const state = createRunState([])
    expect(metricsOf(state, 50)).toEqual({ inputTokens: 0, outputTokens: 0, totalTokens: 0, cachedInputTokens: 0, reasoningTokens: 0, timeToFirstTokenMs: null, durationMs: null })
    state.startedAtMs = 100
    state.usage = { inputTokens: 7, outputTokens: 3, cachedInputTokens: 2, reasoningTokens: 1, cacheWriteInputTokens: 0 }
    expect(metricsOf(state, undefined).durationMs).toBeNull()
    expect(metricsOf(state, 160)).toEqual({ inputTokens: 7, outputTokens: 3, totalTokens: 10, cachedInputTokens: 2, reasoningTokens: 1, timeToFirstTokenMs: null, durationMs: 60 })
    state.firstTurnTtftMs = 25
    expect(metricsOf(state, 160).timeToFirstTokenMs).toBe(25)
    expect(metricsData(metricsOf(state, 160))).toEqual({
      input_tokens: 7,
      output_tokens: 3,
      total_tokens: 10,
      cached_input_tokens: 2,
      reasoning_tokens: 1,
      time_to_first_token_ms: 25,
      duration_ms: 60,
    })
  })

  it('fills usage data’s optional counts with 0, and turns tool output into text', () => {
    expect(usageData({ inputTokens: 4, outputTokens: 2 })).toEqual(usage(4, 2, 0, 0))
    expect(usageData({ inputTokens: 4, outputTokens: 2, cachedInputTokens: 3, reasoningTokens: 1 })).toEqual(usage(4, 2, 3, 1))
    expect(usageData({ inputTokens: 4, outputTokens: 2, cacheWriteInputTokens: 0 })).toEqual(usage(4, 2, 0, 0))
    expect(usageData({ inputTokens: 4, outputTokens: 2, cacheWriteInputTokens: 3 })).toEqual({ ...usage(4, 2, 0, 0), cache_write_input_tokens: 3 })
    expect(outputText('as is')).toBe('as is')
    expect(outputText({ a: [1] })).toBe('{"a":[1]}')
    expect(outputText(5)).toBe('5')
    expect(openRequests(undefined)).toEqual([])
  })
})
