import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { afterAll, describe, expect, it } from 'vitest'
import { DependencyError } from '../../src/errors.js'
import { resolveTsx, runKillTest, victimExecArgv } from '../../src/testing/kill-harness.js'

const root = resolve(fileURLToPath(new URL('../..', import.meta.url)))
// A directory outside the repo, where no node_modules above it has tsx.
const outside = mkdtempSync(join(tmpdir(), 'hearth-no-tsx-'))
afterAll(() => rmSync(outside, { recursive: true, force: true }))
const builtEntry = '/somewhere/node_modules/hearth-runtime/dist/src/testing/kill-child.js'

describe('the kill harness finds tsx for a TypeScript scenario', () => {
  it('resolves tsx from the scenario directory and hands the child its loader as a file URL', () => {
    const argv = victimExecArgv(join(root, 'test/crash/scenario.ts'), { cwd: outside, entry: builtEntry })
    expect(argv).toEqual(['--import', pathToFileURL(resolveTsx([root]) as string).href])
    expect(argv[1]).toMatch(/^file:.*tsx/)
  })

  it('falls back to the working directory', () => {
    const scenario = join(outside, 'scenario.ts')
    expect(victimExecArgv(pathToFileURL(scenario).href, { cwd: root, entry: builtEntry })[0]).toBe('--import')
  })

  it('names tsx and how to install it when neither place has it', () => {
    const scenario = join(outside, 'scenario.ts')
    writeFileSync(scenario, 'export default {}\n')
    expect(resolveTsx([outside])).toBeUndefined()
    expect(() => victimExecArgv(scenario, { cwd: outside, entry: builtEntry })).toThrow(DependencyError)
    expect(() => victimExecArgv(scenario, { cwd: outside, entry: builtEntry })).toThrow(
      expect.objectContaining({
        code: 'dependency.missing',
        message: `runKillTest needs tsx to run the TypeScript scenario ${scenario}, and cannot resolve it from ${outside}: npm install -D tsx`,
      }),
    )
  })

  it('makes runKillTest reject before it spawns anything', async () => {
    const scenario = join(outside, 'scenario.ts')
    writeFileSync(scenario, 'export default {}\n')
    const cwd = process.cwd()
    // The working directory is one of the two places tsx is looked for (vitest runs files in forks, so chdir is allowed).
    process.chdir(outside)
    try {
      await expect(runKillTest({ scenario, storePath: (point) => join(outside, `${point}.db`), killAfterEvents: [1] })).rejects.toMatchObject({
        code: 'dependency.missing',
        message: expect.stringContaining('npm install -D tsx'),
      })
    } finally {
      process.chdir(cwd)
    }
  })

  it('needs no tsx for a JavaScript scenario run by the built harness', () => {
    for (const name of ['scenario.js', 'scenario.mjs']) expect(victimExecArgv(join(outside, name), { cwd: outside, entry: builtEntry })).toEqual([])
  })

  it('needs tsx when the harness itself runs from source', () => {
    expect(() => victimExecArgv(join(outside, 'scenario.mjs'), { cwd: outside, entry: join(root, 'src/testing/kill-child.ts') })).toThrow(/needs tsx/)
  })
})
