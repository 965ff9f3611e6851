/**
 * hearth-runtime/mcp: MCP servers' tools as a hearth toolset, through the
 * official `@modelcontextprotocol/sdk` (an optional peer, loaded when
 * `mcpTools()` first connects).
 */
export { mcpTools } from './mcp-tools.js'
export type { McpToolsOptions, McpToolset } from './mcp-tools.js'
export type { HttpServerConfig, McpServerConfig, StdioServerConfig } from './connection.js'
export type { McpToolOverride } from './to-tool.js'
export { hearthToolName } from './tool-names.js'
