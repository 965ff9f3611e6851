/**
 * Runs an ESM script in a child `node` (with tsx, from the repo root) under
 * the peer hooks of `peer-hooks.mjs`: some peers hidden from the library's
 * files, every bare specifier resolved logged. A child, because this process
 * loaded better-sqlite3 and openai long ago.
 */
import { spawn } from 'node:child_process'
import { dirname, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..')
const hooks = resolve(root, 'test/peers/register-peer-hooks.mjs')

/** What the child printed last (as JSON), and its stderr for failure messages. */
export interface ChildResult {
  result: unknown
  stderr: string
}

/** Options of {@link runChild}. */
export interface ChildOptions {
  /** Peers the library's files cannot resolve, as if not installed. @default [] */
  hide?: string[]
  /** A file that gets a line `<specifier> <importer URL>` per bare specifier resolved; the child finds it in HEARTH_PEER_LOG. */
  log?: string
  /** More environment variables for the child. @default {} */
  env?: Record<string, string>
}

/** Runs `script` and parses the last line it printed as JSON (the line itself when it is not JSON). */
export async function runChild(script: string, options: ChildOptions = {}): Promise<ChildResult> {
  const env: NodeJS.ProcessEnv = { ...process.env, ...options.env, HEARTH_HIDE_PEERS: (options.hide ?? []).join(',') }
  delete env.HEARTH_PEER_LOG
  if (options.log !== undefined) env.HEARTH_PEER_LOG = options.log
  const child = spawn(process.execPath, ['--import', 'tsx', '--import', hooks, '--input-type=module', '-e', script], { cwd: root, env })
  let stdout = ''
  let stderr = ''
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk))
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk))
  const timer = setTimeout(() => child.kill('SIGKILL'), 15_000)
  await new Promise<void>((done) => child.once('close', () => done()))
  clearTimeout(timer)
  const last = stdout.trim().split('\n').at(-1) ?? ''
  let result: unknown = last
  try {
    result = JSON.parse(last)
  } catch {
    // Not JSON: the child failed before printing; the test shows the line and stderr.
  }
  return { result, stderr }
}
