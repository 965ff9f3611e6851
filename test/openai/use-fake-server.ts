/**
 * One fake OpenAI server per test file: started before the file's tests,
 * reset before each (with `defaultReply` set again, when given), closed after
 * them. Kept apart from fake-openai-server.ts, which an example imports
 * outside vitest.
 */
import { afterAll, beforeAll, beforeEach } from 'vitest'
import { startFakeOpenAIServer, type FakeOpenAIServer, type FakeReply, type RecordedRequest } from './fake-openai-server.js'

/** Options of {@link useFakeOpenAIServer}. */
export interface UseFakeServerOptions {
  /** Set as the default reply before each test. @default none: requests with no queued reply get a 404 */
  defaultReply?: (request: RecordedRequest) => FakeReply
  /** Silences the `openai` client's own logging of malformed chunks (the thrown errors say the same). @default false */
  quiet?: boolean
}

/** Registers the file's server hooks; returns the server, usable from the tests on. */
export function useFakeOpenAIServer(options: UseFakeServerOptions = {}): FakeOpenAIServer {
  let started: FakeOpenAIServer | undefined
  const live = (): FakeOpenAIServer => {
    if (started === undefined) throw new Error('The fake OpenAI server starts in beforeAll: use it from a test or a hook')
    return started
  }
  beforeAll(async () => {
    if (options.quiet === true) process.env.OPENAI_LOG = 'off'
    started = await startFakeOpenAIServer()
  })
  afterAll(() => started?.close())
  beforeEach(() => {
    live().reset()
    if (options.defaultReply !== undefined) live().setDefault(options.defaultReply)
  })
  return {
    get baseURL() {
      return live().baseURL
    },
    get requests() {
      return live().requests
    },
    get closedByClient() {
      return live().closedByClient
    },
    enqueue: (...replies) => live().enqueue(...replies),
    setDefault: (handler) => live().setDefault(handler),
    reset: () => live().reset(),
    waitForClientClose: (timeoutMs) => live().waitForClientClose(timeoutMs),
    close: () => live().close(),
  }
}
