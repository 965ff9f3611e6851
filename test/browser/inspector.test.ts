/**
 * The inspector page in a real browser: Debian's Chromium, headless, driven
 * by playwright-core, against the demo runtime served on 127.0.0.1 with a
 * bearer key. It enters the key, starts a run whose tool needs approval,
 * approves it from the pending panel, sees every seq once, reloads in the
 * middle of a slow run without a duplicate, cancels a run, and saves
 * screenshots (test-results/inspector/). Skipped, with one line, where
 * Chromium is missing outside CI; in CI it must be there.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { chromium, type BrowserContext, type Page } from 'playwright-core'
import { Runtime } from 'hearth-runtime'
import { demoAgents } from '../../examples/support/demo-agent.js'
import { demoModel } from '../../examples/support/demo-model.js'
import { serveRuntime, type TestServer } from '../http/support.js'

const executablePath = '/usr/bin/chromium'
const available = existsSync(executablePath)
if (!available && process.env.CI !== undefined) throw new Error(`${executablePath} is missing: .ci/run installs Debian's chromium package`)
if (!available) console.log(`test/browser/inspector.test.ts: skipped, no Chromium at ${executablePath} (apt-get install chromium)`)

// The page's globals, for the functions that run in it: this file is type-checked against Node's types, not the DOM's
// (and the page's CSP, which forbids eval, rules out passing them as strings).
declare const document: { getElementById(id: string): { textContent: string | null } | null; querySelectorAll(selector: string): { length: number }; querySelector(selector: string): unknown }
declare const location: { hash: string }

const key = 'inspector-key'
const shots = join(process.cwd(), 'test-results', 'inspector')

describe.skipIf(!available)('the inspector in Chromium', () => {
  let runtime: Runtime
  let server: TestServer
  let browser: BrowserContext
  let page: Page
  let profile: string

  beforeAll(async () => {
    mkdirSync(shots, { recursive: true })
    runtime = await Runtime.open({ providers: { demo: demoModel() }, routes: { default: { provider: 'demo', model: 'demo' } }, agents: [...demoAgents] })
    server = await serveRuntime(runtime, { inspector: true, authenticate: (token) => (token === key ? { org_id: 'default', user_id: null } : null) })
    profile = mkdtempSync(join(tmpdir(), 'hearth-chromium-'))
    browser = await chromium.launchPersistentContext(profile, {
      executablePath,
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
      viewport: { width: 1280, height: 800 },
    })
    page = browser.pages()[0] ?? (await browser.newPage())
  })

  afterAll(async () => {
    await browser?.close()
    await server?.close()
    await runtime?.close()
    if (profile !== undefined) rmSync(profile, { recursive: true, force: true })
  })

  /** The seqs the page shows in its raw event list, in order. */
  const shownSeqs = (): Promise<number[]> => page.$$eval('#events [data-seq]', (nodes) => nodes.map((node) => Number((node as unknown as { dataset: { seq: string } }).dataset.seq)))

  async function startRun(input: string): Promise<string> {
    await page.fill('#input', input)
    await page.click('#start')
    await page.waitForFunction(() => location.hash.startsWith('#run_'))
    return page.evaluate(() => location.hash.slice(1))
  }

  async function expectEverySeqOnce(runId: string): Promise<void> {
    const stored = await runtime.readEvents(runId, { limit: 1000 })
    const seqs = await shownSeqs()
    expect(seqs).toEqual(stored.map((event) => event.seq))
    expect(new Set(seqs).size).toBe(seqs.length)
  }

  it('asks for the key, then shows the empty runtime with its agents and routes', async () => {
    const response = await page.goto(`${server.url}/inspector`)
    expect(response?.headers()['content-security-policy']).toContain("script-src 'self'")
    await page.waitForSelector('#key-input')
    await page.fill('#key-input', 'wrong')
    await page.click('#key-submit')
    await page.waitForFunction(() => document.getElementById('key-message')?.textContent === 'The key was refused.')
    await page.fill('#key-input', key)
    await page.click('#key-submit')
    await page.waitForFunction(() => document.querySelectorAll('#agent option').length > 1)
    const agents = await page.$$eval('#agent option', (options) => options.map((option) => (option as unknown as { value: string }).value))
    expect(agents).toEqual(expect.arrayContaining(['assistant@1', 'panel@1', 'report@1']))
    expect(await page.$$eval('#route option', (options) => options.map((option) => (option as unknown as { value: string }).value))).toContain('default')
  })

  it('approves a tool call from the pending panel and shows the run complete, every seq once', async () => {
    const runId = await startRun('/tool send_email {"to":"ann@example.com","subject":"Hi","body":"Hello"}')
    await page.waitForSelector('.tool-card[data-tool-call-id]')
    await page.waitForSelector('#pending .request')
    expect(await page.textContent('#pending')).toContain('Approve send_email?')
    await page.screenshot({ path: join(shots, 'pending.png') })
    await page.click('#pending button.approve')
    await page.waitForSelector('.note.end.completed')
    expect(await page.textContent('.tool-card .result')).toContain('"sent":true')
    expect(await page.textContent('#run-stats')).toContain('completed')
    expect((await runtime.getRun(runId)).status).toBe('completed')
    await expectEverySeqOnce(runId)
    await page.screenshot({ path: join(shots, 'completed.png') })
  })

  it('reloads in the middle of a slow run and shows each delta once', async () => {
    const runId = await startRun('/slow 30 60')
    await page.waitForFunction(() => document.querySelectorAll('.message [data-seq]').length >= 5)
    await page.reload()
    await page.waitForSelector('.note.end.completed')
    await expectEverySeqOnce(runId)
    const words = await page.$$eval('.message [data-seq]', (nodes) => nodes.map((node) => node.textContent))
    expect(words).toEqual(Array.from({ length: 30 }, (_, index) => `w${index} `))
    await page.screenshot({ path: join(shots, 'reloaded.png'), fullPage: true })
  })

  it('cancels a run from the page', async () => {
    const runId = await startRun('/slow 400 50')
    await page.waitForFunction(() => document.querySelectorAll('.message [data-seq]').length >= 3)
    await page.click('#cancel')
    await page.waitForSelector('.note.end.cancelled')
    expect((await runtime.getRun(runId)).status).toBe('cancelled')
    await page.waitForFunction(() => document.querySelector('#runs .chip.cancelled') !== null)
    await expectEverySeqOnce(runId)
    await page.screenshot({ path: join(shots, 'cancelled.png') })
  })
})
