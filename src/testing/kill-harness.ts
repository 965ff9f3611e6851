/**
 * The kill harness: runs a Runtime in a child process on a durable store,
 * kills it with SIGKILL at chosen points, then opens a new Runtime on the same
 * store and checks what must hold after any crash:
 * - no event the victim had committed (and so had shown) is lost;
 * - every run's seq is dense from 1;
 * - once recovery has run, no `tool.call` lacks its `tool.result`;
 * - every run ends (waiting runs are answered; the rest complete, fail or are cancelled).
 * With `zombie`, the killed victim stays a zombie while the survivor works,
 * which must still take its runs over at once.
 *
 * The store comes from the scenario module, so hearth-runtime/testing imports no adapter.
 */
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { DependencyError } from '../errors.js'
import type { RunEvent } from '../events.js'
import { Runtime } from '../runtime.js'
import type { RuntimeOptions } from '../runtime-options.js'
import { isTerminalStatus } from '../store.js'
import { killChildEntry, Victim, type ShownEvent } from './victim-process.js'

/** What a scenario module exports as its default. */
export interface KillScenario {
  /** Runtime options for the victim and for the survivor; both must use the store at `storePath`. */
  runtimeOptions(context: { storePath: string; role: 'victim' | 'survivor' }): RuntimeOptions | Promise<RuntimeOptions>
  /** Starts work in the victim: sessions and runs. Resolves once the runs are created. */
  drive(runtime: Runtime): Promise<void>
  /** How the survivor answers a run waiting for input. @default approve */
  answer?: (runtime: Runtime, runId: string) => Promise<void>
}

/** Options of {@link runKillTest}. */
export interface KillTestOptions {
  /** Path of the scenario module (its default export is a {@link KillScenario}). */
  scenario: string
  /** Makes a fresh store path for one kill (a new file per point). */
  storePath: (point: number) => string
  /** Kill the victim right after it has shown this many committed events; one test per entry. */
  killAfterEvents: readonly number[]
  /**
   * Node flags for the victim. By default a TypeScript scenario runs with
   * `--import <tsx>`, tsx resolved from the scenario's directory or the working
   * directory (runKillTest rejects with a `dependency.missing` DependencyError
   * naming tsx when neither has it);
   * a `.js` or `.mjs` scenario needs no flags.
   * @default victimExecArgv(scenario)
   */
  execArgv?: readonly string[]
  /** How long the survivor may take to finish every run. @default 20000 */
  settleTimeoutMs?: number
  /**
   * Spawn the victim through a parent that does not reap it, so that after
   * the kill it stays a zombie (its pid still answers `kill(pid, 0)`) until
   * the survivor's checks are done, as under a supervisor that reaps late or
   * a shell as a container's PID 1. The survivor must see from the process
   * state that it is dead and take its runs over at once: give the scenario
   * a lease longer than `settleTimeoutMs`, so that waiting the lease out
   * cannot pass. Linux only (/bin/sh and /proc). @default false
   */
  zombie?: boolean
}

/** What one kill found. */
export interface KillReport {
  /** The kill point asked for. */
  killAfterEvents: number
  /** Committed events the victim showed before it died. */
  eventsSeen: number
  /** True when the victim finished before reaching the point (nothing was killed mid-way). */
  finishedFirst: boolean
  runs: number
  /** Broken promises, as sentences. Empty when all held. */
  violations: string[]
}

const typeScriptFile = /\.[cm]?tsx?$/

const pathOf = (scenario: string): string => (scenario.startsWith('file:') ? fileURLToPath(scenario) : scenario)

/** The path `specifier` resolves to from the first of `directories` that has it, else undefined. */
function resolveFrom(directories: readonly string[], specifier: string): string | undefined {
  for (const directory of directories) {
    try {
      return createRequire(join(directory, 'noop.js')).resolve(specifier)
    } catch {
      // Not installed for this directory: try the next one.
    }
  }
  return undefined
}

/** Where `tsx` resolves from the first of `directories` that has it (its ESM loader's path), else undefined. */
export function resolveTsx(directories: readonly string[]): string | undefined {
  return resolveFrom(directories, 'tsx')
}

/** Where a scenario's tsx is looked for: the scenario's directory, then `cwd`. */
function tsxPlaces(scenario: string, cwd: string): string[] {
  return [...new Set([dirname(pathOf(scenario)), cwd])]
}

function tsxMissing(scenario: string, places: readonly string[]): DependencyError {
  return new DependencyError(`runKillTest needs tsx to run the TypeScript scenario ${pathOf(scenario)}, and cannot resolve it from ${places.join(' or ')}: npm install -D tsx`)
}

/**
 * The Node flags the victim of `scenario` needs: `--import <tsx loader>` when the
 * scenario (or the victim's entry, when the harness runs from source) is
 * TypeScript, else none. tsx is resolved from the scenario's directory, then
 * from `cwd`, and handed to the child as a file URL, so the child finds it
 * whatever its own location. Not part of the public API.
 * @throws DependencyError (`dependency.missing`) naming tsx when it is needed and cannot be resolved.
 */
export function victimExecArgv(scenario: string, options: { cwd?: string; entry?: string } = {}): string[] {
  if (!typeScriptFile.test(pathOf(scenario)) && !typeScriptFile.test(options.entry ?? killChildEntry)) return []
  const places = tsxPlaces(scenario, options.cwd ?? process.cwd())
  const loader = resolveTsx(places)
  if (loader === undefined) throw tsxMissing(scenario, places)
  return ['--import', pathToFileURL(loader).href]
}

/**
 * The URL of tsx's ESM API (`tsx/esm/api` under the import condition), read
 * from tsx's package.json: createRequire would give the require condition's
 * build, whose `tsImport` cannot find its own hooks (tsx 4.23).
 */
function tsxApiUrl(places: readonly string[]): string | undefined {
  const manifestPath = resolveFrom(places, 'tsx/package.json')
  if (manifestPath === undefined) return undefined
  const manifest = createRequire(manifestPath)(manifestPath) as { exports?: Record<string, { import?: string | { default?: string } }> }
  const entry = manifest.exports?.['./esm/api']?.import
  const target = typeof entry === 'string' ? entry : entry?.default
  return target === undefined ? undefined : pathToFileURL(join(dirname(manifestPath), target)).href
}

/**
 * The scenario module's default export, for the survivor. A TypeScript scenario
 * that this process cannot import itself (plain Node, not vitest or tsx) is
 * loaded through tsx's `tsImport`, from the same places as the victim's tsx.
 */
async function importScenario(scenario: string): Promise<KillScenario> {
  const url = scenario.startsWith('file:') ? scenario : pathToFileURL(scenario).href
  try {
    return ((await import(url)) as { default: KillScenario }).default
  } catch (error) {
    if ((error as { code?: unknown } | null)?.code !== 'ERR_UNKNOWN_FILE_EXTENSION' || !typeScriptFile.test(pathOf(scenario))) throw error
    const places = tsxPlaces(scenario, process.cwd())
    const api = tsxApiUrl(places)
    if (api === undefined) throw tsxMissing(scenario, places)
    const { tsImport } = (await import(api)) as { tsImport: (specifier: string, parentURL: string) => Promise<{ default: KillScenario }> }
    return (await tsImport(url, import.meta.url)).default
  }
}

/** Starts the victim and waits until it has died at `point` (or finished first). Resolves with the victim, to be released after the checks. */
async function killVictim(options: KillTestOptions, execArgv: readonly string[], storePath: string, point: number): Promise<{ victim: Victim; finishedFirst: boolean }> {
  const victim = new Victim({ scenario: options.scenario, storePath, execArgv, zombie: options.zombie === true, killAfterEvents: point })
  const end = await victim.ended
  if (end.signal !== 'SIGKILL' && end.code !== 0) {
    await victim.release()
    throw new Error(`The victim exited with ${String(end.code ?? end.signal)}: ${end.stderr}`)
  }
  return { victim, finishedFirst: end.gaveUp || end.signal !== 'SIGKILL' || victim.shown.length < point }
}

async function readAll(runtime: Runtime, runId: string): Promise<RunEvent[]> {
  const events: RunEvent[] = []
  for (;;) {
    const page = await runtime.readEvents(runId, { afterSeq: events.length, limit: 1000 })
    events.push(...page)
    if (page.length < 1000) return events
  }
}

async function settle(runtime: Runtime, scenario: KillScenario, timeoutMs: number): Promise<string[]> {
  const problems: string[] = []
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const open = await runtime.listRuns({ status: ['queued', 'running', 'waiting_for_input'], limit: 100 })
    if (open.length === 0) return problems
    if (Date.now() > deadline) {
      return [...problems, `runs still unfinished after ${timeoutMs} ms: ${open.map((run) => `${run.id} (${run.status})`).join(', ')}`]
    }
    for (const run of open) {
      if (run.status !== 'waiting_for_input') continue
      await (scenario.answer ?? ((survivor, runId) => survivor.submitInput(runId, { content: 'yes', approved: true })))(runtime, run.id).catch(
        (error: unknown) => problems.push(`answering ${run.id} failed: ${String(error)}`),
      )
    }
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

async function check(scenario: KillScenario, storePath: string, seen: readonly ShownEvent[], settleTimeoutMs: number): Promise<{ runs: number; violations: string[] }> {
  const violations: string[] = []
  const runtime = await Runtime.open(await scenario.runtimeOptions({ storePath, role: 'survivor' }))
  try {
    const seenByRun = new Map<string, ShownEvent[]>()
    for (const event of seen) seenByRun.set(event.runId, [...(seenByRun.get(event.runId) ?? []), event])
    violations.push(...(await settle(runtime, scenario, settleTimeoutMs)))
    const runs = []
    for (let before: string | undefined; ; ) {
      const page = await runtime.listRuns({ limit: 100, before, orgId: undefined })
      runs.push(...page)
      if (page.length < 100) break
      before = page[page.length - 1]?.id
    }
    for (const run of runs) {
      const events = await readAll(runtime, run.id)
      events.forEach((event, index) => {
        if (event.seq !== index + 1) violations.push(`${run.id}: event ${index + 1} has seq ${event.seq}`)
      })
      for (const shown of seenByRun.get(run.id) ?? []) {
        const stored = events[shown.seq - 1]
        if (stored?.type !== shown.type) violations.push(`${run.id}: committed event ${shown.seq} (${shown.type}) is lost`)
      }
      const results = new Set(events.flatMap((event) => (event.type === 'tool.result' ? [event.data.tool_call_id] : [])))
      for (const event of events) {
        if (event.type === 'tool.call' && !results.has(event.data.tool_call_id)) {
          violations.push(`${run.id}: tool.call ${event.data.tool_call_id} has no tool.result`)
        }
      }
      if (!isTerminalStatus(run.status)) violations.push(`${run.id}: ended ${run.status}`)
      if (run.lastSeq !== events.length) violations.push(`${run.id}: lastSeq ${run.lastSeq} but ${events.length} events`)
    }
    return { runs: runs.length, violations }
  } finally {
    await runtime.close()
  }
}

/**
 * Kills a runtime running `scenario` after each of `killAfterEvents` committed
 * events, and checks the store after each kill. Resolves with one report per point.
 */
export async function runKillTest(options: KillTestOptions): Promise<KillReport[]> {
  if (typeof options?.scenario !== 'string') throw new TypeError('Expected `scenario` to be the path of a module')
  if (typeof options.storePath !== 'function') throw new TypeError('Expected `storePath` to be a function of the kill point')
  if (options.zombie !== undefined && typeof options.zombie !== 'boolean') throw new TypeError(`Expected \`zombie\` to be a boolean, got \`${String(options.zombie)}\``)
  if (options.zombie === true && process.platform !== 'linux') throw new TypeError(`\`zombie\` needs Linux (/proc), not ${process.platform}`)
  // First, so a missing tsx fails before anything runs.
  const execArgv = options.execArgv ?? victimExecArgv(options.scenario)
  const scenario = await importScenario(options.scenario)
  const reports: KillReport[] = []
  for (const point of options.killAfterEvents) {
    const storePath = options.storePath(point)
    const { victim, finishedFirst } = await killVictim(options, execArgv, storePath, point)
    try {
      const { runs, violations } = await check(scenario, storePath, victim.shown, options.settleTimeoutMs ?? 20_000)
      reports.push({ killAfterEvents: point, eventsSeen: victim.shown.length, finishedFirst, runs, violations })
    } finally {
      await victim.release()
    }
  }
  return reports
}
