/**
 * One MCP server, through the SDK's client: connected over stdio (a child
 * process, its environment the SDK's safe default with the config's over it)
 * or Streamable HTTP; its tool list, refreshed on `tools/list_changed`; and,
 * when the connection closes unasked (a stdio server that exited), a
 * reconnect with backoff, during which calls fail with `mcp.unavailable`.
 */
import type { Client } from '@modelcontextprotocol/sdk/client/index.js'
import type * as ClientModule from '@modelcontextprotocol/sdk/client/index.js'
import type * as HttpModule from '@modelcontextprotocol/sdk/client/streamableHttp.js'
import type * as StdioModule from '@modelcontextprotocol/sdk/client/stdio.js'
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js'
import type * as TypesModule from '@modelcontextprotocol/sdk/types.js'
import { McpError } from '../../src/errors.js'
import type { Logger } from '../../src/logger.js'
import { loadPeer } from '../../src/optional-peer.js'
import type { McpCallResult, McpToolInfo } from './to-tool.js'

/** A server started as a child process, speaking MCP over its stdin and stdout. */
export interface StdioServerConfig {
  command: string
  args?: readonly string[]
  /** Merged over the SDK's default environment (PATH, HOME and the like; not the whole of this process's). @default {} */
  env?: Record<string, string>
  cwd?: string
}

/** A server reached over Streamable HTTP. */
export interface HttpServerConfig {
  url: string
  /** Sent with every request (an `Authorization` header). @default {} */
  headers?: Record<string, string>
}

/** How to reach one MCP server. */
export type McpServerConfig = StdioServerConfig | HttpServerConfig

const peer = { subpath: 'hearth-runtime/mcp', install: '@modelcontextprotocol/sdk@1' }

interface Sdk {
  Client: typeof Client
  transport: (config: McpServerConfig) => Promise<Transport>
  ToolListChangedNotificationSchema: typeof TypesModule.ToolListChangedNotificationSchema
}

/** Loads the SDK (once per process); rejects with `dependency.missing` when it is not installed. */
export async function loadSdk(): Promise<Sdk> {
  const [client, types] = await Promise.all([
    loadPeer<typeof ClientModule>('@modelcontextprotocol/sdk/client/index.js', peer),
    loadPeer<typeof TypesModule>('@modelcontextprotocol/sdk/types.js', peer),
  ])
  return {
    Client: client.Client,
    ToolListChangedNotificationSchema: types.ToolListChangedNotificationSchema,
    transport: async (config) => {
      if ('url' in config) {
        const http = await loadPeer<typeof HttpModule>('@modelcontextprotocol/sdk/client/streamableHttp.js', peer)
        return new http.StreamableHTTPClientTransport(new URL(config.url), { requestInit: { headers: { ...config.headers } } })
      }
      const stdio = await loadPeer<typeof StdioModule>('@modelcontextprotocol/sdk/client/stdio.js', peer)
      return new stdio.StdioClientTransport({
        command: config.command,
        args: [...(config.args ?? [])],
        env: { ...stdio.getDefaultEnvironment(), ...config.env },
        ...(config.cwd === undefined ? {} : { cwd: config.cwd }),
        stderr: 'ignore',
      })
    },
  }
}

/** The longest wait between two reconnects. */
const maxBackoffMs = 30_000

/** One server's connection and tool list. */
export class McpConnection {
  readonly name: string
  readonly #config: McpServerConfig
  readonly #logger: Logger
  readonly #onTools: () => void
  #client: Client | undefined
  #tools: readonly McpToolInfo[] = []
  #closed = false
  #failures = 0
  #timer: NodeJS.Timeout | undefined

  constructor(name: string, config: McpServerConfig, logger: Logger, onTools: () => void) {
    this.name = name
    this.#config = config
    this.#logger = logger
    this.#onTools = onTools
  }

  /** Whether the connection is up. */
  get connected(): boolean {
    return this.#client !== undefined
  }

  /** The server's tools as last listed; empty while it is not connected. */
  get tools(): readonly McpToolInfo[] {
    return this.#tools
  }

  /** Connects and lists the tools; rejects when either fails. */
  async connect(): Promise<void> {
    const sdk = await loadSdk()
    const client = new sdk.Client({ name: 'hearth-runtime', version: '1' }, { capabilities: {} })
    client.setNotificationHandler(sdk.ToolListChangedNotificationSchema, () => {
      this.#list(client).catch((error: unknown) => this.#logger.warn(`hearth: MCP server ${this.name} changed its tools, and listing them failed: ${String(error)}`))
    })
    client.onclose = () => this.#lost(client)
    await client.connect(await sdk.transport(this.#config))
    if (this.#closed) {
      await client.close().catch(() => undefined)
      return
    }
    this.#client = client
    await this.#list(client)
    this.#failures = 0
  }

  async #list(client: Client): Promise<void> {
    const tools: McpToolInfo[] = []
    let cursor: string | undefined
    do {
      const page = await client.listTools(cursor === undefined ? {} : { cursor })
      tools.push(...(page.tools as McpToolInfo[]))
      cursor = page.nextCursor
    } while (cursor !== undefined)
    if (this.#client !== client) return
    this.#tools = tools
    this.#onTools()
  }

  /** The connection closed: unless asked to, the tools go and a reconnect is tried after a backoff. */
  #lost(client: Client): void {
    if (this.#client !== client) return
    this.#client = undefined
    this.#tools = []
    this.#onTools()
    if (this.#closed) return
    this.#logger.warn(`hearth: MCP server ${this.name} closed its connection; reconnecting`)
    this.#reconnectLater()
  }

  #reconnectLater(): void {
    const delay = Math.min(maxBackoffMs, 250 * 2 ** this.#failures)
    this.#failures++
    this.#timer = setTimeout(() => {
      this.#timer = undefined
      if (this.#closed) return
      this.connect().catch((error: unknown) => {
        this.#logger.warn(`hearth: MCP server ${this.name} could not reconnect: ${String(error)}`)
        if (!this.#closed) this.#reconnectLater()
      })
    }, delay)
    this.#timer.unref()
  }

  /** Calls tool `tool`; `mcp.unavailable` when the server is not connected or no longer lists it. */
  async call(tool: string, args: unknown, signal: AbortSignal, timeoutMs: number): Promise<McpCallResult> {
    const client = this.#client
    if (client === undefined) throw new McpError('mcp.unavailable', `MCP server ${this.name} is not connected`)
    if (!this.#tools.some((entry) => entry.name === tool)) throw new McpError('mcp.unavailable', `MCP server ${this.name} no longer has a tool ${tool}`)
    try {
      // The server's cancellation notice goes out when `signal` aborts; hearth's own timeout fires first.
      const result = await client.callTool({ name: tool, arguments: (args ?? {}) as Record<string, unknown> }, undefined, { signal, timeout: timeoutMs === 0 ? 2_147_483_647 : timeoutMs + 1000 })
      return result as McpCallResult
    } catch (error) {
      if (signal.aborted) throw signal.reason
      const message = error instanceof Error ? error.message : String(error)
      if (this.#client !== client) throw new McpError('mcp.unavailable', `MCP server ${this.name} went away during the call: ${message}`, { cause: error })
      throw new McpError('mcp.protocol', `MCP server ${this.name} failed the call to ${tool}: ${message}`, { cause: error })
    }
  }

  /** Closes the connection (and ends a stdio server's process); no reconnect follows. */
  async close(): Promise<void> {
    this.#closed = true
    clearTimeout(this.#timer)
    const client = this.#client
    this.#client = undefined
    this.#tools = []
    await client?.close().catch(() => undefined)
  }
}
