/**
 * Child processes for the package test, each with a bounded timeout: a
 * command that hangs is killed and reported, never waited on forever.
 */
import { execFile } from 'node:child_process'

/** What a finished child printed and how it ended. */
export interface ChildResult {
  stdout: string
  stderr: string
  /** The exit code; null when a signal (or the timeout) ended it. */
  code: number | null
  timedOut: boolean
  ms: number
}

/** Options of {@link runChild}. */
export interface ChildOptions {
  cwd: string
  /** Killed with SIGKILL after this long. */
  timeoutMs: number
  env?: NodeJS.ProcessEnv
}

/** Runs `command` with `args` to its end (or its timeout); never rejects. */
export function runChild(command: string, args: readonly string[], options: ChildOptions): Promise<ChildResult> {
  const started = performance.now()
  return new Promise((resolve) => {
    execFile(
      command,
      args,
      { cwd: options.cwd, env: options.env ?? process.env, timeout: options.timeoutMs, killSignal: 'SIGKILL', maxBuffer: 64 * 1024 * 1024, encoding: 'utf8' },
      (error, stdout, stderr) => {
        const failure = error as (NodeJS.ErrnoException & { code?: number | string; killed?: boolean }) | null
        const code = failure === null ? 0 : typeof failure.code === 'number' ? failure.code : null
        resolve({ stdout, stderr: stderr || (failure !== null && typeof failure.code === 'string' ? failure.message : ''), code, timedOut: failure?.killed === true, ms: performance.now() - started })
      },
    )
  })
}

/** Throws with the child's output when it did not exit 0. */
export function expectSuccess(result: ChildResult, what: string): ChildResult {
  if (result.code === 0) return result
  const ending = result.timedOut ? 'timed out' : `exited with ${String(result.code)}`
  throw new Error(`${what} ${ending}\n${tail(result.stdout)}\n${tail(result.stderr)}`.trimEnd())
}

/** The last `lines` lines of `text`. */
export function tail(text: string, lines = 40): string {
  return text.trimEnd().split('\n').slice(-lines).join('\n')
}
