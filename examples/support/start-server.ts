/**
 * The example server, as functions: its settings from the environment, and
 * starting it (a SQLite-backed Runtime served by hearth-runtime/http on node:http).
 * `examples/server.ts` runs it; tests start it in-process.
 */
import { createHash, timingSafeEqual } from 'node:crypto'
import { mkdirSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { dirname, resolve } from 'node:path'
import { Runtime, type ModelProvider, type Route } from 'hearth-runtime'
import { createHttpHandler, toNodeListener, type HttpCaller } from 'hearth-runtime/http'
import { postgresStore } from 'hearth-runtime/postgres'
import { sqliteStore } from 'hearth-runtime/sqlite'
import { assistantAgent, demoAgents } from './demo-agent.js'
import { demoModel } from './demo-model.js'
import { loadMcpConfig } from './mcp-config.js'

/** The example server's settings. */
export interface ServerConfig {
  /** The SQLite file (`HEARTH_DB`); its directory is created when missing. Unused with `databaseUrl`. @default './data/hearth.db' */
  dbPath: string
  /**
   * `HEARTH_DATABASE_URL`: a PostgreSQL database to keep everything in
   * instead of the SQLite file; every server on the same database serves and
   * executes the same runs, as one service. @default undefined (SQLite)
   */
  databaseUrl: string | undefined
  /** `HEARTH_LEASE_MS`: how long a silent server keeps its runs before another takes them over. @default 10000 */
  leaseMs: number
  /** `PORT`; 0 picks a free one. @default 8787 */
  port: number
  /** `HOST`. @default '127.0.0.1' */
  host: string
  /** `HEARTH_API_KEY`: when set, requests need `Authorization: Bearer <key>`, and the key maps to org `default`. @default undefined (auth off) */
  apiKey: string | undefined
  /** OpenAI (`OPENAI_API_KEY`, `OPENAI_BASE_URL`, `OPENAI_MODEL`), when it is the provider. @default undefined */
  openai: { apiKey: string; baseURL: string | undefined; model: string } | undefined
  /** Anthropic (`ANTHROPIC_API_KEY`, `ANTHROPIC_BASE_URL`, `ANTHROPIC_MODEL`), when it is the provider: only its key is set, or `HEARTH_PROVIDER=anthropic`. @default undefined */
  anthropic: { apiKey: string; baseURL: string | undefined; model: string } | undefined
  /**
   * `HEARTH_EXECUTE`: `false` serves the file as an observer, which executes
   * nothing: its runs wait for a server on the same file that executes. @default true
   */
  execute: boolean
  /** `HEARTH_CONTROL_TIMEOUT_MS`: how long a cancel or input waits for the server that executes the run. @default 10000 */
  controlTimeoutMs: number
  /** `HEARTH_CONTEXT`: what gives way when a session's history outgrows the model's window, `trim` or `summarize`. @default 'trim' */
  context: 'trim' | 'summarize'
  /** `HEARTH_CONTEXT_WINDOW`: the model's window in tokens, for a model the provider does not know (a local one). @default undefined: the provider's */
  contextWindow: number | undefined
  /**
   * Whether `assistant@1` keeps user memories (`memory: 'auto'`): always with
   * a real model; with the demo model only when `HEARTH_DEMO_MEMORY=1` (its
   * extraction keeps each message of a thread's user as a memory).
   * @default true with a real model, else false
   */
  memory: boolean
  /** `HEARTH_MCP_CONFIG`: a JSON file of MCP servers (`{ "mcpServers": { ... } }`) whose tools the agent gets. @default undefined: none */
  mcpConfig: string | undefined
}

/** A started server. */
export interface RunningServer {
  /** The base URL, e.g. `http://127.0.0.1:8787`. */
  url: string
  /** What the server prints at start: where it is, how it is set up, and a curl line to try. */
  banner: string
  runtime: Runtime
  server: Server
  /** Stops taking requests, ends open streams, closes the runtime. */
  close(): Promise<void>
}

function setting(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const value = env[name]?.trim()
  return value === undefined || value === '' ? undefined : value
}

/** The settings from environment variables. Throws a TypeError naming the variable on a bad value. */
export function configFromEnvironment(env: NodeJS.ProcessEnv = process.env): ServerConfig {
  const portText = setting(env, 'PORT') ?? '8787'
  const port = Number(portText)
  if (!/^[0-9]{1,5}$/.test(portText) || port > 65_535) throw new TypeError(`Expected PORT to be a port number from 0 to 65535, got \`${portText}\``)
  const openaiKey = setting(env, 'OPENAI_API_KEY')
  const anthropicKey = setting(env, 'ANTHROPIC_API_KEY')
  const chosen = setting(env, 'HEARTH_PROVIDER')
  if (chosen !== undefined && chosen !== 'openai' && chosen !== 'anthropic') throw new TypeError(`Expected HEARTH_PROVIDER to be openai or anthropic, got \`${chosen}\``)
  if (chosen !== undefined && (chosen === 'openai' ? openaiKey : anthropicKey) === undefined) {
    throw new TypeError(`HEARTH_PROVIDER is ${chosen}, but ${chosen === 'openai' ? 'OPENAI_API_KEY' : 'ANTHROPIC_API_KEY'} is not set`)
  }
  // With both keys, OpenAI unless HEARTH_PROVIDER says otherwise.
  const provider = chosen ?? (openaiKey !== undefined ? 'openai' : anthropicKey !== undefined ? 'anthropic' : undefined)
  const execute = setting(env, 'HEARTH_EXECUTE') ?? 'true'
  if (execute !== 'true' && execute !== 'false') throw new TypeError(`Expected HEARTH_EXECUTE to be true or false, got \`${execute}\``)
  const timeoutText = setting(env, 'HEARTH_CONTROL_TIMEOUT_MS') ?? '10000'
  const controlTimeoutMs = Number(timeoutText)
  if (!/^[0-9]{1,9}$/.test(timeoutText) || controlTimeoutMs < 1) {
    throw new TypeError(`Expected HEARTH_CONTROL_TIMEOUT_MS to be a positive number of milliseconds, got \`${timeoutText}\``)
  }
  const context = setting(env, 'HEARTH_CONTEXT') ?? 'trim'
  if (context !== 'trim' && context !== 'summarize') throw new TypeError(`Expected HEARTH_CONTEXT to be trim or summarize, got \`${context}\``)
  const windowText = setting(env, 'HEARTH_CONTEXT_WINDOW')
  if (windowText !== undefined && (!/^[0-9]{1,9}$/.test(windowText) || Number(windowText) < 1)) {
    throw new TypeError(`Expected HEARTH_CONTEXT_WINDOW to be a positive number of tokens, got \`${windowText}\``)
  }
  const leaseText = setting(env, 'HEARTH_LEASE_MS') ?? '10000'
  if (!/^[0-9]{1,9}$/.test(leaseText) || Number(leaseText) < 100) {
    throw new TypeError(`Expected HEARTH_LEASE_MS to be a number of milliseconds of at least 100, got \`${leaseText}\``)
  }
  const demoMemory = setting(env, 'HEARTH_DEMO_MEMORY') ?? '0'
  if (demoMemory !== '0' && demoMemory !== '1') throw new TypeError(`Expected HEARTH_DEMO_MEMORY to be 0 or 1, got \`${demoMemory}\``)
  const databaseUrl = setting(env, 'HEARTH_DATABASE_URL')
  if (databaseUrl !== undefined && !/^postgres(ql)?:\/\//.test(databaseUrl)) {
    throw new TypeError(`Expected HEARTH_DATABASE_URL to be a postgres:// URL, got \`${databaseUrl.replace(/:[^:@/]*@/, ':***@')}\``)
  }
  return {
    dbPath: setting(env, 'HEARTH_DB') ?? './data/hearth.db',
    databaseUrl,
    leaseMs: Number(leaseText),
    port,
    host: setting(env, 'HOST') ?? '127.0.0.1',
    apiKey: setting(env, 'HEARTH_API_KEY'),
    openai: provider !== 'openai' || openaiKey === undefined ? undefined : { apiKey: openaiKey, baseURL: setting(env, 'OPENAI_BASE_URL'), model: setting(env, 'OPENAI_MODEL') ?? 'gpt-4o-mini' },
    anthropic:
      provider !== 'anthropic' || anthropicKey === undefined
        ? undefined
        : { apiKey: anthropicKey, baseURL: setting(env, 'ANTHROPIC_BASE_URL'), model: setting(env, 'ANTHROPIC_MODEL') ?? 'claude-sonnet-4-5' },
    execute: execute === 'true',
    controlTimeoutMs,
    context,
    contextWindow: windowText === undefined ? undefined : Number(windowText),
    mcpConfig: setting(env, 'HEARTH_MCP_CONFIG'),
    memory: provider !== undefined || demoMemory === '1',
  }
}

/** A database URL with its password hidden, for the banner. */
function redactUrl(url: string): string {
  return url.replace(/:[^:@/]*@/, ':***@')
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text).digest()
}

/** Bearer auth with one key, compared in constant time. */
function keyAuthenticator(apiKey: string): (token: string) => HttpCaller | null {
  const expected = digest(apiKey)
  return (token) => (timingSafeEqual(digest(token), expected) ? { org_id: 'default', user_id: null } : null)
}

function urlHost(host: string): string {
  // A wildcard address is reachable on loopback; an IPv6 literal needs brackets in a URL.
  if (host === '0.0.0.0' || host === '::' || host === '') return '127.0.0.1'
  return host.includes(':') ? `[${host}]` : host
}

/**
 * One shell line that creates a thread and a run and streams the run's
 * events with curl. With `auth`, it reads the key from `$HEARTH_API_KEY`.
 */
export function curlLine(url: string, auth: boolean): string {
  const header = auth ? ` -H "Authorization: Bearer $HEARTH_API_KEY"` : ''
  const json = `-H 'Content-Type: application/json'`
  return [
    `B=${url}`,
    `T=$(curl -sS${header} -X POST "$B/v1/threads" ${json} -d '{}' | sed -n 's/.*"id":"\\([^"]*\\)".*/\\1/p')`,
    `R=$(curl -sS${header} -X POST "$B/v1/threads/$T/runs" ${json} -d '{"input":"/tool add {\\"a\\": 2, \\"b\\": 3}"}' | sed -n 's/.*"run_id":"\\([^"]*\\)".*/\\1/p')`,
    `curl -sSN${header} "$B/v1/runs/$R/events"`,
  ].join('; ')
}

async function modelSetup(config: ServerConfig): Promise<{ providers: Record<string, ModelProvider>; route: Route; description: string }> {
  if (config.anthropic !== undefined) {
    const { apiKey, baseURL, model } = config.anthropic
    const { anthropicProvider } = await import('hearth-runtime/anthropic')
    const provider = anthropicProvider({ apiKey, promptCaching: true, ...(baseURL === undefined ? {} : { baseURL }) })
    return { providers: { anthropic: provider }, route: { provider: 'anthropic', model }, description: `Anthropic ${model}${baseURL === undefined ? '' : ` at ${baseURL}`}` }
  }
  if (config.openai === undefined) {
    return {
      providers: { demo: demoModel() },
      route: { provider: 'demo', model: 'demo' },
      description: 'the offline demo model (set OPENAI_API_KEY or ANTHROPIC_API_KEY to use a real one)',
    }
  }
  const { apiKey, baseURL, model } = config.openai
  // Loaded only when asked for, so the demo runs without the openai package.
  const { openaiProvider } = await import('hearth-runtime/openai')
  const provider = openaiProvider({ apiKey, ...(baseURL === undefined ? {} : { baseURL }) })
  return { providers: { openai: provider }, route: { provider: 'openai', model }, description: `OpenAI ${model}${baseURL === undefined ? '' : ` at ${baseURL}`}` }
}

function listen(server: Server, port: number, host: string): Promise<AddressInfo> {
  return new Promise((resolvePromise, reject) => {
    server.once('error', reject)
    server.listen(port, host, () => {
      server.off('error', reject)
      resolvePromise(server.address() as AddressInfo)
    })
  })
}

/** Runtime.open, closing the MCP servers' toolset when it fails (their processes would outlive it). */
async function openRuntime(options: Parameters<typeof Runtime.open>[0] & object): Promise<Runtime> {
  try {
    return await Runtime.open(options)
  } catch (error) {
    await Promise.all(Object.values(options.toolsets ?? {}).map((toolset) => toolset.close?.()))
    throw error
  }
}

/** Opens the runtime on the SQLite file and serves it over HTTP. */
export async function startServer(config: ServerConfig): Promise<RunningServer> {
  if (config.databaseUrl === undefined && config.dbPath !== ':memory:') mkdirSync(dirname(resolve(config.dbPath)), { recursive: true })
  const models = await modelSetup(config)
  const mcp = config.mcpConfig === undefined ? undefined : await loadMcpConfig(config.mcpConfig)
  const runtime = await openRuntime({
    ...(mcp === undefined ? {} : { toolsets: { mcp: mcp.toolset } }),
    store: config.databaseUrl === undefined ? sqliteStore({ path: config.dbPath }) : postgresStore({ connectionString: config.databaseUrl }, { idleInTransactionTimeoutMs: Math.min(5000, config.leaseMs) }),
    leaseMs: config.leaseMs,
    providers: models.providers,
    routes: { default: config.contextWindow === undefined ? models.route : { ...models.route, contextWindow: config.contextWindow } },
    agents: [
      { ...assistantAgent, context: { strategy: config.context }, ...(mcp === undefined ? {} : { toolsets: ['mcp'] }), ...(config.memory ? { memory: 'auto' as const } : {}) },
      ...demoAgents.slice(1),
    ],
    execute: config.execute,
    controlTimeoutMs: config.controlTimeoutMs,
  })
  const handler = createHttpHandler(runtime, { inspector: true, ...(config.apiKey === undefined ? {} : { authenticate: keyAuthenticator(config.apiKey) }) })
  const server = createServer(toNodeListener(handler))
  let address: AddressInfo
  try {
    address = await listen(server, config.port, config.host)
  } catch (error) {
    await runtime.close()
    throw error
  }
  const url = `http://${urlHost(config.host)}:${address.port}`
  const storeName = config.databaseUrl === undefined ? 'HEARTH_DB' : 'HEARTH_DATABASE_URL'
  const banner = [
    `hearth is serving ${url}`,
    config.databaseUrl === undefined
      ? `  store  SQLite ${config.dbPath} (db_id ${runtime.store.id})`
      : `  store  PostgreSQL ${redactUrl(config.databaseUrl)} (db_id ${runtime.store.id})`,
    `  look   ${url}/inspector: threads, runs live, approvals, cancel, a composer${config.apiKey === undefined ? ' (leave the key empty)' : ' (it asks for HEARTH_API_KEY)'}`,
    `  model  ${models.description}`,
    `  agent  ${assistantAgent.key}@${assistantAgent.version} with the tools add, send_email (asks for confirmation) and researcher (the agent researcher@1, run as a child run)`,
    '  team   panel@1 (persona_id "panel"): researcher@1 and critic@1 answer at once, then the panel combines them',
    '  flow   report@1 (persona_id "report"): a workflow that researches its input with researcher@1, then summarises it',
    config.execute
      ? `  role   executes runs; other servers on the same ${storeName} share them, and input or cancel may go to any of them`
      : `  role   observer (HEARTH_EXECUTE=false): executes nothing; a server on the same ${storeName} executes its runs`,
    ...(mcp === undefined ? [] : [`  mcp    ${mcp.description}`]),
    `  window ${config.context === 'trim' ? 'the oldest runs of a long session are trimmed to fit the model\'s window (HEARTH_CONTEXT=summarize to summarize them)' : 'the oldest runs of a long session are summarized to fit the model\'s window'}`,
    config.apiKey === undefined
      ? '  auth   OFF: anyone who can reach this address can use it (set HEARTH_API_KEY to require a bearer token)'
      : '  auth   bearer token: send `Authorization: Bearer $HEARTH_API_KEY`',
    ...(config.openai === undefined && config.anthropic === undefined ? ['  demo   messages: /tool NAME {json} (/tool researcher {"input":"…"} starts a child run), /slow N MS, /fail, /flaky N, /recall, or anything to echo'] : []),
    ...(config.memory ? ['  memory assistant@1 keeps what a thread\'s user tells it (memory: auto); /memories?user_id=... lists it'] : []),
    '',
    `Create a thread and a run, and stream its events${config.apiKey === undefined ? '' : ' (with HEARTH_API_KEY exported in that shell)'}:`,
    '',
    curlLine(url, config.apiKey !== undefined),
    '',
  ].join('\n')
  let closing: Promise<void> | undefined
  const close = (): Promise<void> => {
    closing ??= (async () => {
      const closed = new Promise<void>((resolvePromise) => server.close(() => resolvePromise()))
      server.closeAllConnections()
      await closed
      await runtime.close()
    })()
    return closing
  }
  return { url, banner, runtime, server, close }
}
