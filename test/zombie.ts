/**
 * Real zombie processes for the ownership tests: a child that has exited but
 * whose parent (a shell blocked in `read`) has not reaped it yet, so
 * `process.kill(pid, 0)` still finds it. `release()` lets the shell reap it.
 * Linux only (/bin/sh, /proc).
 */
import { spawn } from 'node:child_process'
import { mkdtemp, rm, symlink } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { processState } from '../src/ownership.js'

/** A process that has exited and is not reaped until `release()`. */
export interface Zombie {
  /** The zombie's pid. */
  pid: number
  /** The pid of its parent, a shell that is alive and sleeping in `read`. */
  parentPid: number
  /** Lets the parent reap the zombie and exit; resolves once it has. */
  release(): Promise<void>
}

/** Waits, in steps of 10 ms and at most `timeoutMs`, until `pid` is in `state`; throws with the last state seen otherwise. */
export async function waitForState(pid: number, state: string | undefined, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const seen = processState(pid)
    if (seen === state) return
    if (Date.now() > deadline) throw new Error(`Process ${pid} is in state ${String(seen)}, not ${String(state)}, after ${timeoutMs} ms`)
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
}

/**
 * Makes a zombie: the shell starts `node -e 0` in the background, prints its
 * pid, and waits on stdin without reaping it. The node runs under the file
 * name `name` (a symlink to this Node), which becomes its command name in
 * /proc: a name with `) R (` in it shows that the state is parsed after the
 * last parenthesis. Resolves once the child is a zombie.
 */
export async function spawnZombie(name = 'hearth-zombie'): Promise<Zombie> {
  const directory = await mkdtemp(join(tmpdir(), 'hearth-zombie-'))
  const executable = join(directory, name)
  await symlink(process.execPath, executable)
  const parent = spawn('/bin/sh', ['-c', '"$@" >/dev/null 2>&1 & echo "$!"; exec >/dev/null; read line; wait "$!"', 'zombie-parent', executable, '-e', '0'], {
    stdio: ['pipe', 'pipe', 'ignore'],
  })
  const exited = new Promise<void>((resolve) => parent.on('exit', () => resolve()))
  const release = async (): Promise<void> => {
    parent.stdin.end()
    await exited
    await rm(directory, { recursive: true, force: true })
  }
  try {
    const pid = await new Promise<number>((resolve, reject) => {
      let out = ''
      parent.stdout.setEncoding('utf8')
      parent.stdout.on('data', (chunk: string) => (out += chunk))
      parent.stdout.on('end', () => (/^\d+\n$/.test(out) ? resolve(Number(out)) : reject(new Error(`The zombie's parent printed ${JSON.stringify(out)}`))))
      parent.on('error', reject)
    })
    await waitForState(pid, 'Z')
    return { pid, parentPid: parent.pid as number, release }
  } catch (error) {
    await release()
    throw error
  }
}
