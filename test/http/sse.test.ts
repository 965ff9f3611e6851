import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { EventSource } from 'eventsource'
import { describe, expect, it } from 'vitest'
import { createHttpHandler } from 'hearth-runtime/http'
import { apiClient, openEvents, range, readEvents, seqsOf, sseFrames, startRun, useDemoServer, waitForRun } from './support.js'

const token = 'secret-token'

const demo = useDemoServer({
  token,
  http: {
    authenticate: (given) => (given === token ? { org_id: 'default', user_id: 'tester' } : null),
    pingIntervalMs: 40,
  },
})

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

describe('SSE over fetch with a bearer token', () => {
  it('streams id + data frames, in order, and closes after the terminal event', async () => {
    const { threadId, runId } = await startRun(demo.api, '/tool add {"a": 2, "b": 3}')
    const response = await openEvents(demo.url, runId, { token })
    expect(response.status).toBe(200)
    expect(response.headers.get('content-type')).toBe('text/event-stream; charset=utf-8')
    expect(response.headers.get('cache-control')).toBe('no-cache')
    expect(response.headers.get('x-accel-buffering')).toBe('no')
    expect(response.headers.get('x-trace-id')).toMatch(/^[0-9a-f]{32}$/)
    const events: any[] = []
    for await (const frame of sseFrames(response)) {
      if (frame.data === undefined) continue
      expect(frame.id).toBe(String(frame.data.seq))
      events.push(frame.data)
    }
    expect(seqsOf(events)).toEqual(range(1, events.length))
    expect(events[0]).toEqual({
      run_id: runId,
      thread_id: threadId,
      seq: 1,
      type: 'run.started',
      data: { persona_id: 'assistant@1', route_id: 'default', model: 'demo', model_provider: 'demo', history_run_ids: [] },
      created_at: expect.stringMatching(/Z$/),
    })
    const types = events.map((event) => event.type)
    expect(types).toContain('tool.call')
    expect(events.find((event) => event.type === 'tool.result').data).toMatchObject({ name: 'add', output: 5, is_error: false })
    expect(events.at(-1)).toMatchObject({ type: 'run.completed', data: { content: 'add returned 5' } })
  })

  it('answers 204 for a finished run with nothing left, and replays what is left otherwise', async () => {
    const { runId } = await startRun(demo.api, 'one two three')
    const all = await readEvents(demo.url, runId, { token })
    const last = all.at(-1).seq
    expect((await openEvents(demo.url, runId, { token, afterSeq: last })).status).toBe(204)
    expect((await openEvents(demo.url, runId, { token, afterSeq: last + 10 })).status).toBe(204)
    expect((await openEvents(demo.url, runId, { token, lastEventId: last })).status).toBe(204)
    const tail = await readEvents(demo.url, runId, { token, afterSeq: last - 2 })
    expect(tail).toEqual(all.slice(-2))
  })

  it('starts after the larger of after_seq and Last-Event-ID', async () => {
    const { runId } = await startRun(demo.api, 'a b c d e f g h')
    const all = await readEvents(demo.url, runId, { token })
    expect(seqsOf(await readEvents(demo.url, runId, { token, afterSeq: 2, lastEventId: 5 }))).toEqual(range(6, all.length))
    expect(seqsOf(await readEvents(demo.url, runId, { token, afterSeq: 5, lastEventId: 2 }))).toEqual(range(6, all.length))
  })

  it('rejects a bad after_seq or Last-Event-ID with 400, and an unknown run with 404', async () => {
    const { runId } = await startRun(demo.api, 'hello')
    for (const query of ['?after_seq=-1', '?after_seq=abc', '?after_seq=1.5']) {
      const response = await fetch(`${demo.url}/v1/runs/${runId}/events${query}`, { headers: { Authorization: `Bearer ${token}` } })
      expect(response.status).toBe(400)
      expect(((await response.json()) as any).code).toBe('validation.invalid')
    }
    const badHeader = await fetch(`${demo.url}/v1/runs/${runId}/events`, { headers: { Authorization: `Bearer ${token}`, 'Last-Event-ID': 'x' } })
    expect(badHeader.status).toBe(400)
    expect((await openEvents(demo.url, 'run_nope', { token })).status).toBe(404)
  })

  it('resumes at several after_seq points of a live run: no gap, no duplicate', async () => {
    const { runId } = await startRun(demo.api, '/slow 40 15')
    const first = await openEvents(demo.url, runId, { token })
    const seen: any[] = []
    const readers: Promise<any[]>[] = []
    for await (const frame of sseFrames(first)) {
      if (frame.data === undefined) continue
      seen.push(frame.data)
      // Reconnect points while the run is live: each reader picks up after the event it last saw.
      if ([1, 7, 19, 33].includes(frame.data.seq)) readers.push(readEvents(demo.url, runId, { token, afterSeq: frame.data.seq }))
      if (frame.data.seq === 10) readers.push(readEvents(demo.url, runId, { token, afterSeq: 4, lastEventId: 10 }))
    }
    const last = seen.at(-1).seq
    expect(seqsOf(seen)).toEqual(range(1, last))
    const resumed = await Promise.all(readers)
    expect(resumed.map((events) => seqsOf(events))).toEqual([range(2, last), range(8, last), range(11, last), range(20, last), range(34, last)])
    for (const events of resumed) expect(events).toEqual(seen.slice(events[0].seq - 1))
  })

  it('sends `: ping` comments while a run is quiet', async () => {
    const { runId } = await startRun(demo.api, '/slow 3 150')
    const response = await openEvents(demo.url, runId, { token })
    const frames: any[] = []
    for await (const frame of sseFrames(response)) frames.push(frame)
    expect(frames.filter((frame) => frame.comment === 'ping').length).toBeGreaterThanOrEqual(3)
    expect(frames.at(-1).data.type).toBe('run.completed')
  })

  it("a client's disconnect does not cancel the run", async () => {
    const { runId } = await startRun(demo.api, '/slow 15 20')
    const abort = new AbortController()
    const response = await openEvents(demo.url, runId, { token, signal: abort.signal })
    const got: any[] = []
    await expect(
      (async () => {
        for await (const frame of sseFrames(response)) {
          if (frame.data !== undefined) got.push(frame.data)
          if (got.length === 3) abort.abort()
        }
      })(),
    ).rejects.toThrow()
    expect(got).toHaveLength(3)
    const run = await waitForRun(demo.api, runId, (details) => details.status !== 'running' && details.status !== 'queued')
    expect(run.status).toBe('completed')
    expect(run.content).toBe(range(0, 14).map((index) => `w${index} `).join(''))
  })

  it('cancel during streaming ends the stream with run.cancelled', async () => {
    const { runId } = await startRun(demo.api, '/slow 500 10')
    const response = await openEvents(demo.url, runId, { token })
    const events: any[] = []
    for await (const frame of sseFrames(response)) {
      if (frame.data === undefined) continue
      events.push(frame.data)
      if (frame.data.seq === 5) expect((await demo.api('POST', `/v1/runs/${runId}:cancel`, { reason: 'stop' })).status).toBe(200)
    }
    expect(events.at(-1)).toMatchObject({ type: 'run.cancelled', data: { reason: 'stop' } })
    expect(seqsOf(events)).toEqual(range(1, events.length))
  })

  it("deleting the thread ends its run's stream with run.cancelled", async () => {
    const { threadId, runId } = await startRun(demo.api, '/slow 500 10')
    const response = await openEvents(demo.url, runId, { token })
    const events: any[] = []
    for await (const frame of sseFrames(response)) {
      if (frame.data === undefined) continue
      events.push(frame.data)
      if (frame.data.seq === 3) expect((await demo.api('DELETE', `/v1/threads/${threadId}`)).status).toBe(200)
    }
    expect(events.at(-1).type).toBe('run.cancelled')
    expect((await openEvents(demo.url, runId, { token })).status).toBe(404)
  })

  it('cancel during waiting ends the stream, and approval through /input continues it', async () => {
    const email = '/tool send_email {"to": "t@example.com", "subject": "s", "body": "b"}'
    for (const action of ['cancel', 'approve'] as const) {
      const { runId } = await startRun(demo.api, email)
      const response = await openEvents(demo.url, runId, { token })
      const events: any[] = []
      for await (const frame of sseFrames(response)) {
        if (frame.data === undefined) continue
        events.push(frame.data)
        if (frame.data.type !== 'run.waiting_for_input') continue
        const toolCallId = frame.data.data.requests[0].tool_call_id
        const answer = action === 'cancel' ? await demo.api('POST', `/v1/runs/${runId}:cancel`) : await demo.api('POST', `/v1/runs/${runId}/input`, { content: 'approve', tool_call_id: toolCallId })
        expect(answer.status).toBe(200)
      }
      const types = events.map((event) => event.type)
      if (action === 'cancel') expect(types.slice(-2)).toEqual(['tool.result', 'run.cancelled'])
      else {
        expect(types).toContain('run.input_received')
        expect(events.at(-1)).toMatchObject({ type: 'run.completed', data: { content: 'send_email returned {"sent":true,"to":"t@example.com"}' } })
      }
      expect(seqsOf(events)).toEqual(range(1, events.length))
    }
  })

  it('a slow reader gets every event once, however far it falls behind', async () => {
    // Straight to the handler, no socket buffers between: the body is pulled one frame at a time.
    const handler = createHttpHandler(demo.runtime)
    const { runId } = await startRun(apiClient(demo.url, token), '/slow 3000 0')
    const response = await handler(new Request(`http://local/v1/runs/${runId}/events`))
    const reader = (response.body as ReadableStream<Uint8Array>).getReader()
    const decoder = new TextDecoder()
    let text = ''
    for (let count = 0; ; count++) {
      const { done, value } = await reader.read()
      if (done) break
      text += decoder.decode(value, { stream: true })
      if (count < 20) await sleep(25)
    }
    const seqs = [...text.matchAll(/^id: (\d+)$/gm)].map((match) => Number(match[1]))
    expect(seqs).toEqual(range(1, seqs.length))
    expect(seqs.length).toBeGreaterThan(3000)
    expect(text.trimEnd().endsWith('"type":"run.completed"')).toBe(false)
    expect(text).toContain('"type":"run.completed"')
  })
})

describe('SSE with the eventsource package', () => {
  it('reconnects with Last-Event-ID after a drop, then stops at 204: every event exactly once', async () => {
    const { runId } = await startRun(demo.api, '/slow 30 15')
    const seen: any[] = []
    const requests: { lastEventId: string | null; status: number }[] = []
    let dropped = false
    const source = new EventSource(`${demo.url}/v1/runs/${runId}/events?after_seq=0`, {
      fetch: async (input, init) => {
        const headers = new Headers(init?.headers)
        headers.set('Authorization', `Bearer ${token}`)
        const response = await fetch(input, { ...init, headers })
        requests.push({ lastEventId: headers.get('last-event-id'), status: response.status })
        if (response.body === null) return response
        // Sets a short retry, and drops the first connection after ten events.
        const encoder = new TextEncoder()
        let frames = 0
        const body = response.body.pipeThrough(
          new TransformStream<Uint8Array, Uint8Array>({
            start(controller) {
              controller.enqueue(encoder.encode('retry: 20\n\n'))
            },
            transform(chunk, controller) {
              controller.enqueue(chunk)
              frames += (new TextDecoder().decode(chunk).match(/^id: /gm) ?? []).length
              if (!dropped && frames >= 10) {
                dropped = true
                controller.terminate()
              }
            },
          }),
        )
        return new Response(body, { status: response.status, headers: response.headers })
      },
    })
    await new Promise<void>((resolve, reject) => {
      const timeout = setTimeout(() => reject(new Error('the EventSource did not finish')), 10_000)
      source.onmessage = (message) => {
        seen.push(JSON.parse(message.data))
        expect(message.lastEventId).toBe(String(seen.at(-1).seq))
      }
      source.onerror = () => {
        if (requests.at(-1)?.status === 204) {
          clearTimeout(timeout)
          resolve()
        }
      }
    })
    source.close()
    expect(seqsOf(seen)).toEqual(range(1, seen.length))
    expect(seen.at(-1).type).toBe('run.completed')
    expect(requests[0]).toEqual({ lastEventId: null, status: 200 })
    expect(requests[1]).toEqual({ lastEventId: '10', status: 200 })
    expect(requests.at(-1)).toEqual({ lastEventId: String(seen.at(-1).seq), status: 204 })
    expect((await demo.api('GET', `/v1/runs/${runId}`)).body.status).toBe('completed')
  })
})

describe('SSE with curl', () => {
  it('streams a run with curl -N and a bearer token', async () => {
    const run = promisify(execFile)
    const { runId } = await startRun(demo.api, '/slow 5 10')
    const { stdout } = await run('curl', ['-sS', '-N', '-H', `Authorization: Bearer ${token}`, `${demo.url}/v1/runs/${runId}/events`], { timeout: 10_000 })
    const frames = stdout.split('\n\n').filter((block) => block.startsWith('id: '))
    const events = frames.map((block) => JSON.parse(block.split('\n')[1]!.slice('data: '.length)))
    expect(seqsOf(events)).toEqual(range(1, events.length))
    expect(events.filter((event) => event.type === 'message.delta').map((event) => event.data.content)).toEqual(['w0 ', 'w1 ', 'w2 ', 'w3 ', 'w4 '])
    expect(events.at(-1).type).toBe('run.completed')
    const { stdout: status } = await run('curl', ['-sS', '-o', '/dev/null', '-w', '%{http_code}', '-H', `Authorization: Bearer ${token}`, `${demo.url}/v1/runs/${runId}/events?after_seq=${events.length}`])
    expect(status).toBe('204')
  })
})
