/**
 * mcpTools(): the tools of MCP servers as one hearth toolset. Register it
 * with the runtime (`Runtime.open({ toolsets: { mcp } })`) and name it in
 * agents (`toolsets: ['mcp']`): each server's tools appear as
 * `server__tool`, their list kept current as servers change it, reconnect or
 * go away.
 */
import { resolveLogger, type Logger } from '../../src/logger.js'
import type { Tool } from '../../src/tools.js'
import type { Toolset } from '../../src/toolsets.js'
import { loadSdk, McpConnection, type McpServerConfig } from './connection.js'
import { toHearthTool, type McpToolOverride } from './to-tool.js'
import { hearthToolName } from './tool-names.js'

/** Options of {@link mcpTools}. */
export interface McpToolsOptions {
  /** The servers by name (`{ command, args?, env?, cwd? }` over stdio, or `{ url, headers? }`); the name prefixes their tools' names. */
  servers: Record<string, McpServerConfig>
  /** Settings per tool, by its hearth name (`server__tool`), over what its annotations say. @default {} */
  tools?: Record<string, McpToolOverride>
  /** How long to wait for each server's first list; a server not there by then is warned about and joins when it connects. @default 10000 */
  connectTimeoutMs?: number
  /** Where connection trouble is reported. @default consoleLogger */
  logger?: Logger
}

/** The toolset {@link mcpTools} makes. */
export interface McpToolset extends Toolset {
  readonly ready: Promise<void>
  /** Each server: whether it is connected, and how many tools it lists. */
  servers(): { name: string; connected: boolean; tools: number }[]
  close(): Promise<void>
}

const serverNamePattern = /^[A-Za-z0-9_-]{1,32}$/

function checkServer(name: string, config: unknown): McpServerConfig {
  const where = `servers.${name}`
  if (!serverNamePattern.test(name)) throw new TypeError(`Expected the MCP server name \`${name}\` to match ${String(serverNamePattern)}`)
  if (typeof config !== 'object' || config === null) throw new TypeError(`Expected \`${where}\` to be { command, args?, env?, cwd? } or { url, headers? }`)
  const value = config as Record<string, unknown>
  const strings = (field: string, record: unknown): void => {
    if (record !== undefined && (typeof record !== 'object' || record === null || !Object.values(record).every((entry) => typeof entry === 'string'))) {
      throw new TypeError(`Expected \`${where}.${field}\` to be an object of strings`)
    }
  }
  if (typeof value.url === 'string') {
    if (!/^https?:\/\//.test(value.url)) throw new TypeError(`Expected \`${where}.url\` to be an http or https URL, got \`${value.url}\``)
    strings('headers', value.headers)
    return config as McpServerConfig
  }
  if (typeof value.command !== 'string' || value.command === '') throw new TypeError(`Expected \`${where}\` to have a \`command\` (stdio) or a \`url\` (Streamable HTTP)`)
  if (value.args !== undefined && (!Array.isArray(value.args) || !value.args.every((entry) => typeof entry === 'string'))) throw new TypeError(`Expected \`${where}.args\` to be an array of strings`)
  strings('env', value.env)
  if (value.cwd !== undefined && typeof value.cwd !== 'string') throw new TypeError(`Expected \`${where}.cwd\` to be a string`)
  return config as McpServerConfig
}

/**
 * Connects to `servers` and resolves with their tools as a toolset, once
 * each server has listed its tools or failed to within `connectTimeoutMs`
 * (a failure is a warning: its tools are absent until it connects). Rejects
 * with a TypeError on malformed options, or when two tools would get the
 * same hearth name.
 */
export async function mcpTools(options: McpToolsOptions): Promise<McpToolset> {
  if (typeof options !== 'object' || options === null || typeof options.servers !== 'object' || options.servers === null) {
    throw new TypeError('Expected mcpTools options with `servers`: an object of MCP servers by name')
  }
  const configs = Object.entries(options.servers).map(([name, config]) => [name, checkServer(name, config)] as const)
  // A missing SDK is the caller's to fix, not a server's trouble to warn about.
  if (configs.length > 0) await loadSdk()
  const logger = resolveLogger(options.logger)
  const overrides = options.tools ?? {}
  const connectTimeoutMs = options.connectTimeoutMs ?? 10_000
  let tools: readonly Tool[] = []
  let connected = false
  const connections: McpConnection[] = []

  /** Rebuilds the list; two tools with one hearth name are an error before the first list, and leave the later out after. */
  const rebuild = (): void => {
    const byName = new Map<string, Tool>()
    for (const connection of connections) {
      for (const info of connection.tools) {
        const name = hearthToolName(connection.name, info.name)
        if (byName.has(name)) {
          const message = `MCP tool ${info.name} of server ${connection.name} would be named ${name}, as another tool is`
          if (!connected) throw new TypeError(message)
          logger.error(`hearth: ${message}; it is left out`)
          continue
        }
        byName.set(name, toHearthTool(name, info, (tool, args, signal, timeoutMs) => connection.call(tool, args, signal, timeoutMs), overrides[name]))
      }
    }
    tools = [...byName.values()]
  }

  for (const [name, config] of configs) connections.push(new McpConnection(name, config, logger, () => connected && rebuild()))
  await Promise.all(
    connections.map(async (connection) => {
      let timer: NodeJS.Timeout | undefined
      const late = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no tool list within ${connectTimeoutMs} ms`)), connectTimeoutMs)
      })
      try {
        await Promise.race([connection.connect(), late])
      } catch (error) {
        logger.warn(`hearth: MCP server ${connection.name} is not available, so its tools are absent for now: ${error instanceof Error ? error.message : String(error)}`)
      } finally {
        clearTimeout(timer)
      }
    }),
  )
  try {
    rebuild()
  } catch (error) {
    await Promise.all(connections.map((connection) => connection.close()))
    throw error
  }
  connected = true
  return {
    ready: Promise.resolve(),
    tools: () => tools,
    servers: () => connections.map((connection) => ({ name: connection.name, connected: connection.connected, tools: connection.tools.length })),
    close: async () => {
      await Promise.all(connections.map((connection) => connection.close()))
    },
  }
}
