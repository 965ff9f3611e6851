import { spawnSync } from 'node:child_process'
import { describe, expect, it } from 'vitest'

// A child process, because this one has loaded better-sqlite3 long ago. It reports whether
// better-sqlite3 sits in the CommonJS module cache after importing the root, and after
// importing hearth-runtime/sqlite too: the second must be true, or the check proves nothing.
const script = `
  import { createRequire } from 'node:module'
  const loaded = () => Object.keys(createRequire(import.meta.url).cache).some((path) => path.includes('better-sqlite3'))
  await import('./src/index.ts')
  const afterRoot = loaded()
  await import('./adapters/sqlite/index.ts')
  console.log(JSON.stringify({ afterRoot, afterSqlite: loaded() }))
`

describe('the root import', () => {
  it('does not load better-sqlite3', () => {
    const child = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: process.cwd(), encoding: 'utf8', timeout: 15_000 })
    const last = child.stdout.trim().split('\n').at(-1) ?? ''
    expect(last.startsWith('{') ? JSON.parse(last) : last, child.stderr).toEqual({ afterRoot: false, afterSqlite: true })
  })
})
