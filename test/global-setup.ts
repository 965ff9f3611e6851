/**
 * Builds dist/ before the suite when it is missing or older than the source.
 * A few tests run code as a user does, through the package's own exports
 * (`npm start`, the examples, the kill harness's victim from a fresh process),
 * and those point at dist/: a stale build would test yesterday's code, a
 * missing one would fail far from the cause.
 */
import { execFileSync } from 'node:child_process'
import { existsSync, readdirSync, statSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = resolve(fileURLToPath(new URL('..', import.meta.url)))

function newestSource(directory: string): number {
  let newest = 0
  for (const entry of readdirSync(directory, { withFileTypes: true })) {
    const path = join(directory, entry.name)
    if (entry.isDirectory()) newest = Math.max(newest, newestSource(path))
    else if (entry.name.endsWith('.ts')) newest = Math.max(newest, statSync(path).mtimeMs)
  }
  return newest
}

/** vitest's global setup: runs once before every test file. */
export default function setup(): void {
  const stamp = join(root, 'dist', 'src', 'index.js')
  const built = existsSync(stamp) ? statSync(stamp).mtimeMs : 0
  const source = Math.max(newestSource(join(root, 'src')), newestSource(join(root, 'adapters')), statSync(join(root, 'package.json')).mtimeMs)
  if (built >= source) return
  try {
    execFileSync('npm', ['run', 'build'], { cwd: root, stdio: 'pipe' })
  } catch (error) {
    const output = error as { stdout?: Buffer; stderr?: Buffer }
    throw new Error(`dist/ is out of date and \`npm run build\` failed:\n${String(output.stdout ?? '')}${String(output.stderr ?? '')}`)
  }
}
