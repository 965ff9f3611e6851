/**
 * A real MCP server made with the SDK's own McpServer, for the tests: over
 * stdio when run as a script (`node --import tsx test/mcp/fixture-server.ts`),
 * or over Streamable HTTP on 127.0.0.1 through `startHttpFixture()`. Its
 * tools: `echo` (read-only), `add` (structured output), `charge`
 * (unannotated: destructive; appends to $HEARTH_MCP_CHARGES), `fail` (an
 * error result), `crash` (the process exits mid-call), `grow` (adds a tool,
 * so the server sends `tools/list_changed`), `shrink` (removes `echo`), and
 * `wait` (never answers; appends `cancelled` to $HEARTH_MCP_CHARGES when the
 * client cancels it).
 */
import { appendFileSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { randomUUID } from 'node:crypto'
import { fileURLToPath } from 'node:url'
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js'
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js'
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js'
import { z } from 'zod'

function fixture(name: string): McpServer {
  const server = new McpServer({ name, version: '1.0.0' })
  const echo = server.registerTool('echo', { description: 'Echoes text', inputSchema: { text: z.string() }, annotations: { readOnlyHint: true } }, async ({ text }) => ({
    content: [{ type: 'text', text: `echo: ${text}` }],
  }))
  server.registerTool('shrink', { description: 'Removes echo', inputSchema: {}, annotations: { readOnlyHint: true } }, async () => {
    echo.remove()
    return { content: [{ type: 'text', text: 'shrunk' }] }
  })
  server.registerTool('wait', { description: 'Waits until cancelled', inputSchema: {}, annotations: { readOnlyHint: true } }, async (_args, extra) => {
    await new Promise<void>((resolve) => extra.signal.addEventListener('abort', () => resolve()))
    if (process.env.HEARTH_MCP_CHARGES !== undefined) appendFileSync(process.env.HEARTH_MCP_CHARGES, 'cancelled\n')
    return { content: [{ type: 'text', text: 'cancelled' }] }
  })
  server.registerTool(
    'add',
    { description: 'Adds', inputSchema: { a: z.number(), b: z.number() }, outputSchema: { sum: z.number() }, annotations: { destructiveHint: false, idempotentHint: true } },
    async ({ a, b }) => ({ content: [{ type: 'text', text: String(a + b) }], structuredContent: { sum: a + b } }),
  )
  server.registerTool('charge', { description: 'Charges a card', inputSchema: { amount: z.number() } }, async ({ amount }) => {
    if (process.env.HEARTH_MCP_CHARGES !== undefined) appendFileSync(process.env.HEARTH_MCP_CHARGES, `${amount}\n`)
    return { content: [{ type: 'text', text: `charged ${amount}` }] }
  })
  server.registerTool('fail', { description: 'Fails', inputSchema: {}, annotations: { readOnlyHint: true } }, async () => ({ content: [{ type: 'text', text: 'the disk is full' }], isError: true }))
  server.registerTool('crash', { description: 'Exits mid-call', inputSchema: {}, annotations: { readOnlyHint: true } }, async () => {
    setTimeout(() => process.exit(3), 20)
    return new Promise(() => {})
  })
  server.registerTool('grow', { description: 'Adds a tool', inputSchema: {}, annotations: { readOnlyHint: true } }, async () => {
    server.registerTool('extra', { description: 'Added later', inputSchema: {}, annotations: { readOnlyHint: true } }, async () => ({ content: [{ type: 'text', text: 'extra' }] }))
    server.sendToolListChanged()
    return { content: [{ type: 'text', text: 'grown' }] }
  })
  return server
}

/** A fixture over Streamable HTTP on 127.0.0.1 (one session). */
export async function startHttpFixture(): Promise<{ url: string; close: () => Promise<void> }> {
  const server = fixture('http-fixture')
  const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: () => randomUUID() })
  await server.connect(transport)
  const http: Server = createServer(async (request, response) => {
    let body = ''
    for await (const chunk of request) body += chunk
    await transport.handleRequest(request, response, body === '' ? undefined : JSON.parse(body))
  })
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve))
  const { port } = http.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}/mcp`,
    close: async () => {
      await server.close()
      http.closeAllConnections()
      await new Promise((resolve) => http.close(resolve))
    },
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  await fixture('stdio-fixture').connect(new StdioServerTransport())
}
