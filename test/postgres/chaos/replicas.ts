/**
 * The parts of the PostgreSQL chaos tests (`npm run test:pg-chaos`): example
 * servers started as `npm start` starts them, each a process of its own on
 * one database (replicas of one service), SSE readers that fail over to
 * another replica when theirs dies, and a throwaway PostgreSQL cluster that a
 * test may restart without disturbing any other test.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process'
import { existsSync, mkdtempSync, readdirSync, rmSync, chmodSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import pg from 'pg'
import { openEvents, sseFrames } from '../../http/support.js'

const root = resolve(fileURLToPath(new URL('.', import.meta.url)), '../../..')

/** An example server in a process of its own. */
export interface Replica {
  name: string
  url: string
  child: ChildProcess
  /** What it printed so far (stdout and stderr). */
  output(): string
  exited: Promise<number | null>
  /** False once it was killed. */
  alive: boolean
}

/** Starts `examples/server.ts` on `databaseUrl` with a short lease. */
export async function startReplica(name: string, databaseUrl: string, env: Record<string, string> = {}): Promise<Replica> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'examples/server.ts'], {
    cwd: root,
    env: { ...process.env, PORT: '0', HEARTH_DATABASE_URL: databaseUrl, HEARTH_LEASE_MS: '1000', HEARTH_API_KEY: '', OPENAI_API_KEY: '', ANTHROPIC_API_KEY: '', HEARTH_EXECUTE: '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  child.stdout?.on('data', (chunk) => (output += chunk))
  child.stderr?.on('data', (chunk) => (output += chunk))
  const exited = new Promise<number | null>((resolveExit) => child.once('exit', (code) => resolveExit(code)))
  const deadline = Date.now() + 20_000
  while (!output.includes('hearth is serving ')) {
    if (Date.now() > deadline || child.exitCode !== null) throw new Error(`Replica ${name} did not start:\n${output}`)
    await new Promise((resolveWait) => setTimeout(resolveWait, 50))
  }
  const url = /hearth is serving (\S+)/.exec(output)?.[1] as string
  return { name, url, child, output: () => output, exited, alive: true }
}

/** Stops a replica that is still running (SIGTERM, after a SIGCONT in case it is stopped). */
export async function stopReplica(replica: Replica): Promise<void> {
  if (replica.child.exitCode !== null || replica.child.signalCode !== null) return
  replica.child.kill('SIGCONT')
  replica.child.kill('SIGTERM')
  const timer = setTimeout(() => replica.child.kill('SIGKILL'), 10_000)
  await replica.exited
  clearTimeout(timer)
}

/** Calls the replica's HTTP API. */
export async function api(replica: Replica, method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> {
  const response = await fetch(`${replica.url}${path}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    signal: AbortSignal.timeout(15_000),
  })
  const text = await response.text()
  return { status: response.status, body: text === '' ? undefined : JSON.parse(text) }
}

/** Creates a thread and a run on `replica`; the ids. */
export async function createRun(replica: Replica, input: string): Promise<{ threadId: string; runId: string }> {
  const thread = await api(replica, 'POST', '/v1/threads', {})
  const created = await api(replica, 'POST', `/v1/threads/${thread.body.id}/runs`, { input })
  if (created.status !== 201) throw new Error(`Could not create a run on ${replica.name}: ${JSON.stringify(created.body)}`)
  return { threadId: thread.body.id, runId: created.body.run_id }
}

const terminal = new Set(['run.completed', 'run.failed', 'run.cancelled'])

/** What a reader saw, and how often it had to connect again. */
export interface Followed {
  events: { seq: number; type: string }[]
  reconnects: number
}

/**
 * Follows a run's SSE stream on `first`, and whenever the stream breaks
 * before the run's end, on the next live replica from the seq it reached
 * (`after_seq`), until the run's terminal event. Gives up after `timeoutMs`.
 */
export async function follow(all: readonly Replica[], first: number, runId: string, timeoutMs = 90_000): Promise<Followed> {
  const replicas = [...all]
  const events: { seq: number; type: string }[] = []
  const deadline = Date.now() + timeoutMs
  let index = first
  let reconnects = -1
  for (;;) {
    if (Date.now() > deadline) throw new Error(`Reading run ${runId} did not end within ${timeoutMs} ms (at seq ${events.at(-1)?.seq ?? 0})`)
    const replica = replicas[index % replicas.length] as Replica
    index++
    if (!replica.alive) continue
    reconnects++
    try {
      const response = await openEvents(replica.url, runId, { afterSeq: events.at(-1)?.seq ?? 0, signal: AbortSignal.timeout(Math.max(1, deadline - Date.now())) })
      if (response.status !== 200) {
        await response.body?.cancel()
        await new Promise((resolveWait) => setTimeout(resolveWait, 100))
        continue
      }
      for await (const frame of sseFrames(response)) {
        if (frame.data === undefined) continue
        const event = frame.data as { seq: number; type: string }
        events.push({ seq: event.seq, type: event.type })
        if (terminal.has(event.type)) return { events, reconnects }
      }
    } catch {
      // The replica died or its stream broke: go on from the last seq, elsewhere.
    }
    await new Promise((resolveWait) => setTimeout(resolveWait, 50))
  }
}

/** Polls `check` every 50 ms until it is true, at most `timeoutMs`. */
export async function waitUntil(check: () => Promise<boolean> | boolean, what: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`)
    await new Promise((resolveWait) => setTimeout(resolveWait, 50))
  }
}

/** Counts of the runs in `schema` by status. */
export async function statusCounts(client: pg.Client, schema = 'hearth'): Promise<Record<string, number>> {
  const { rows } = await client.query<{ status: string; count: string }>(`SELECT status, count(*) AS count FROM "${schema}".runs GROUP BY status`)
  return Object.fromEntries(rows.map((row) => [row.status, Number(row.count)]))
}

/** A PostgreSQL cluster of the test's own, in a temporary directory, run as the `postgres` user on `port`. */
export interface Cluster {
  url: string
  restart(): void
  stop(): void
}

function binDirectory(): string {
  const versions = readdirSync('/usr/lib/postgresql').sort((a, b) => Number(b) - Number(a))
  for (const version of versions) {
    const bin = `/usr/lib/postgresql/${version}/bin`
    if (existsSync(join(bin, 'pg_ctl'))) return bin
  }
  throw new Error('No PostgreSQL server binaries under /usr/lib/postgresql')
}

/** Makes and starts a throwaway cluster (initdb, trust auth, 127.0.0.1 only). */
export function startCluster(port: number): Cluster {
  const bin = binDirectory()
  const directory = mkdtempSync(join(tmpdir(), 'hearth-pg-cluster-'))
  chmodSync(directory, 0o777)
  const data = join(directory, 'data')
  const asPostgres = (command: string): void => {
    const args = process.getuid?.() === 0 ? ['postgres', '-c', command] : []
    if (args.length > 0) execFileSync('su', args, { stdio: 'pipe' })
    else execFileSync('sh', ['-c', command], { stdio: 'pipe' })
  }
  asPostgres(`${bin}/initdb -D ${data} -A trust -U postgres --no-sync > ${directory}/initdb.log 2>&1`)
  const options = `-p ${port} -k ${directory} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200`
  const start = (): void => asPostgres(`${bin}/pg_ctl -D ${data} -o "${options}" -l ${directory}/server.log -w -t 30 start`)
  start()
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    restart: () => asPostgres(`${bin}/pg_ctl -D ${data} -o "${options}" -l ${directory}/server.log -m fast -w -t 30 restart`),
    stop: () => {
      try {
        asPostgres(`${bin}/pg_ctl -D ${data} -m immediate -w -t 30 stop`)
      } finally {
        rmSync(directory, { recursive: true, force: true })
      }
    },
  }
}
