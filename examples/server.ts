/**
 * The example server: a hearth Runtime on a SQLite file (or PostgreSQL), served over HTTP and
 * SSE by hearth-runtime/http. `npm start` runs it.
 *
 *   HEARTH_DB       the SQLite file (default ./data/hearth.db, its directory is created)
 *   HEARTH_DATABASE_URL  a postgres:// URL: keep everything in PostgreSQL instead; every server on it is one service
 *   HEARTH_LEASE_MS  how long a silent server keeps its runs before another takes them over (default 10000)
 *   PORT, HOST      where to listen (default 8787 on 127.0.0.1)
 *   HEARTH_API_KEY  require `Authorization: Bearer <key>` (the key maps to org `default`)
 *   HEARTH_EXECUTE  `false`: serve as an observer that executes nothing (another server on the same store executes)
 *   HEARTH_CONTROL_TIMEOUT_MS  how long input or cancel waits for the server that executes the run (default 10000)
 *   HEARTH_CONTEXT  `summarize`: summarize the oldest runs of a long session instead of trimming them (default trim)
 *   HEARTH_CONTEXT_WINDOW  the model's context window in tokens, for a model the provider does not know
 *   OPENAI_API_KEY  use OpenAI (with OPENAI_BASE_URL, OPENAI_MODEL) instead of the offline demo model
 *   ANTHROPIC_API_KEY  use Anthropic (with ANTHROPIC_BASE_URL, ANTHROPIC_MODEL, default claude-sonnet-4-5)
 *   HEARTH_PROVIDER  `openai` or `anthropic`, when both keys are set (default openai)
 *   HEARTH_DEMO_MEMORY  `1`: the demo model's assistant keeps user memories (a real model's always does); `/recall` shows them
 *   HEARTH_MCP_CONFIG  a JSON file of MCP servers ({ "mcpServers": { ... } }) whose tools the agent gets
 */
import { configFromEnvironment, startServer } from './support/start-server.js'

let server
try {
  server = await startServer(configFromEnvironment())
} catch (error) {
  console.error(`hearth: could not start: ${error instanceof Error ? error.message : String(error)}`)
  process.exit(1)
}
console.log(server.banner)

const running = server
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    console.log(`hearth: ${signal}, closing`)
    running.close().then(
      () => process.exit(0),
      (error: unknown) => {
        console.error('hearth: could not close cleanly', error)
        process.exit(1)
      },
    )
  })
}
