/**
 * The inspector's routes without a browser (test/browser/ drives the page):
 * off unless asked for; its page, script and style need no token, carry the
 * Content-Security-Policy and hold no data; the served script is what tsc
 * compiles from the page's source now, which writes only through text nodes.
 * And the routes the page's composer reads, `GET /v1/agents` and
 * `GET /v1/routes`, behind the token.
 */
import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { createHttpHandler } from 'hearth-runtime/http'
import { assetsModule, assetsModuleText, clientDirectory, compileInspector } from '../../scripts/inspector-assets.js'
import { inspectorPolicy } from '../../adapters/http/inspector/inspector-routes.js'
import { apiClient, openDemoRuntime, useDemoServer } from './support.js'

const demo = useDemoServer({ http: { inspector: true, authenticate: (token) => (token === 'k' ? { org_id: 'default', user_id: null } : null) } })

describe('the inspector routes', () => {
  it('are not served unless asked for', async () => {
    const runtime = await openDemoRuntime()
    const handler = createHttpHandler(runtime)
    expect((await handler(new Request('http://local/inspector'))).status).toBe(404)
    expect((await handler(new Request('http://local/inspector/app.js'))).status).toBe(404)
    await runtime.close()
    expect(() => createHttpHandler(runtime, { inspector: 'yes' as unknown as boolean })).toThrow(TypeError)
  })

  it('serve the page, its script and its style without a token, with the policy, and no data', async () => {
    const { body: thread } = await apiClient(demo.url, 'k')('POST', '/v1/threads', { title: 'secret title' })
    const page = await fetch(`${demo.url}/inspector`)
    expect(page.status).toBe(200)
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8')
    expect(page.headers.get('content-security-policy')).toBe(inspectorPolicy)
    expect(inspectorPolicy).toBe("default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
    const html = await page.text()
    expect(html).toContain('<script src="/inspector/app.js" defer></script>')
    expect(html).not.toContain(thread.id)
    expect(html).not.toContain('secret title')
    const head = await fetch(`${demo.url}/inspector`, { method: 'HEAD' })
    expect(head.status).toBe(200)
    expect(await head.text()).toBe('')
    const script = await fetch(`${demo.url}/inspector/app.js`)
    expect(script.headers.get('content-type')).toBe('text/javascript; charset=utf-8')
    expect(script.headers.get('content-security-policy')).toBe(inspectorPolicy)
    const style = await fetch(`${demo.url}/inspector/app.css`)
    expect(style.headers.get('content-type')).toBe('text/css; charset=utf-8')
    expect((await fetch(`${demo.url}/inspector/other.js`)).status).toBe(404)
    expect((await fetch(`${demo.url}/inspector`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{}' })).status).toBe(405)
    // The API behind it still needs the token.
    expect((await fetch(`${demo.url}/v1/threads`)).status).toBe(401)
  })

  it('serve the script tsc compiles from the page’s source now, which writes only through text nodes and sends no token in a URL', async () => {
    const assets = compileInspector()
    expect(readFileSync(assetsModule, 'utf8')).toBe(assetsModuleText(assets))
    const source = readFileSync(`${clientDirectory}/app.ts`, 'utf8')
    for (const sink of ['innerHTML', 'outerHTML', 'insertAdjacentHTML', 'document.write', 'eval(', 'new Function']) expect(source).not.toContain(sink)
    expect(source).not.toMatch(/[?&](token|key|access_token)=/)
    expect(assets.script).not.toMatch(/https?:\/\//)
  })

  it('base the page’s own paths on basePath', async () => {
    const runtime = await openDemoRuntime()
    const handler = createHttpHandler(runtime, { inspector: true, basePath: '/api' })
    const html = await (await handler(new Request('http://local/api/inspector'))).text()
    expect(html).toContain('<meta name="hearth-base" content="/api">')
    expect(html).toContain('href="/api/inspector/app.css"')
    expect((await handler(new Request('http://local/api/inspector/app.js'))).status).toBe(200)
    await runtime.close()
  })
})

describe('GET /v1/agents and /v1/routes', () => {
  it('list what a run may be started with, behind the token', async () => {
    const api = apiClient(demo.url, 'k')
    const agents = await api('GET', '/v1/agents')
    expect(agents.status).toBe(200)
    expect(agents.body).toEqual(
      expect.arrayContaining([
        { id: 'assistant@1', key: 'assistant', version: 1, name: 'Assistant', kind: 'agent', route: null, tools: ['add', 'send_email', 'researcher'], memory: null },
        expect.objectContaining({ id: 'panel@1', kind: 'team' }),
        expect.objectContaining({ id: 'report@1', kind: 'workflow' }),
      ]),
    )
    expect((await api('GET', '/v1/routes')).body).toEqual([{ id: 'default', provider: 'demo', model: 'demo', fallbacks: [] }])
    expect((await fetch(`${demo.url}/v1/agents`)).status).toBe(401)
    expect((await fetch(`${demo.url}/v1/routes`, { method: 'POST', headers: { Authorization: 'Bearer k' } })).status).toBe(405)
  })
})
