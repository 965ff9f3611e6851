/**
 * `HEARTH_MCP_CONFIG`: the MCP servers whose tools the example agent gets,
 * from a JSON file in the format desktop MCP clients use:
 * `{ "mcpServers": { "name": { "command", "args", "env" } | { "url", "headers" } } }`.
 */
import { readFile } from 'node:fs/promises'
import type { Toolset } from 'hearth-runtime'

/** The servers' toolset, and what the banner says of them. */
export interface McpSetup {
  toolset: Toolset & { close(): Promise<void> }
  description: string
}

/** Reads the file and connects (each server waited for at most `connectTimeoutMs`); a bad file is a TypeError naming the variable. */
export async function loadMcpConfig(path: string, connectTimeoutMs = 10_000): Promise<McpSetup> {
  let parsed: unknown
  try {
    parsed = JSON.parse(await readFile(path, 'utf8'))
  } catch (error) {
    throw new TypeError(`HEARTH_MCP_CONFIG (${path}) cannot be read as JSON: ${error instanceof Error ? error.message : String(error)}`)
  }
  const servers = (parsed as { mcpServers?: unknown } | null)?.mcpServers
  if (typeof servers !== 'object' || servers === null || Array.isArray(servers)) {
    throw new TypeError(`HEARTH_MCP_CONFIG (${path}) must hold { "mcpServers": { name: { command, args?, env? } | { url, headers? } } }`)
  }
  // Loaded only when asked for, so the demo runs without the MCP SDK.
  const { mcpTools } = await import('hearth-runtime/mcp')
  let toolset
  try {
    toolset = await mcpTools({ servers: servers as Parameters<typeof mcpTools>[0]['servers'], connectTimeoutMs })
  } catch (error) {
    throw new TypeError(`HEARTH_MCP_CONFIG (${path}): ${error instanceof Error ? error.message : String(error)}`)
  }
  const listed = toolset.servers().map((server) => (server.connected ? `${server.name} (${server.tools} tools)` : `${server.name} (not connected)`))
  return { toolset, description: `${listed.join(', ')}: call one with /tool server__tool {json}` }
}
