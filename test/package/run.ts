/**
 * npm run test:package: hearth-runtime as a user installs it. Builds, packs the
 * tarball, installs it offline into a consumer project in the OS temp dir, and
 * there: type-checks a file using every subpath (nodenext, then bundler, with
 * skipLibCheck off), runs it compiled, require()s every subpath from
 * CommonJS, and runs a vitest file with the kill harness and a contract suite
 * from the package. Prints the tarball's size and the root's load times, then
 * `N passed, N failed`; exits 1 on any failure.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { expectSuccess, runChild, tail } from './child.js'
import { listFiles, makeConsumer, pack, type Tarball } from './consumer.js'
import { loadCommand, measureLoadTimes, median, topLevelAwaits } from './measure.js'

const root = fileURLToPath(new URL('../..', import.meta.url))
const started = performance.now()
let passed = 0
let failed = 0

async function check(name: string, body: () => Promise<string | void> | string | void): Promise<boolean> {
  const checkStarted = performance.now()
  try {
    const detail = await body()
    passed++
    console.log(`ok   ${name} (${seconds(performance.now() - checkStarted)})${detail ? `: ${detail}` : ''}`)
    return true
  } catch (error) {
    failed++
    console.log(`FAIL ${name} (${seconds(performance.now() - checkStarted)})\n${indent(error instanceof Error ? error.message : String(error))}`)
    return false
  }
}

const seconds = (ms: number): string => `${(ms / 1000).toFixed(1)} s`
const kilobytes = (bytes: number): string => `${(bytes / 1024).toFixed(1)} KiB`
const indent = (text: string): string => text.replace(/^/gm, '     ')

function tarballContents(installed: string): string {
  const files = listFiles(installed)
  const stray = files.filter((file) => !(file.startsWith('dist/src/') || file.startsWith('dist/adapters/') || ['package.json', 'README.md', 'LICENSE'].includes(file)))
  const maps = files.filter((file) => file.endsWith('.map'))
  if (stray.length > 0 || maps.length > 0) throw new Error(`unexpected files in the tarball: ${[...stray, ...maps].join(', ')}`)
  for (const needed of ['LICENSE', 'README.md', 'dist/src/index.js', 'dist/src/testing/kill-child.js']) {
    if (!files.includes(needed)) throw new Error(`the tarball lacks ${needed}`)
  }
  return `${files.length} files: dist/src, dist/adapters, package.json, README.md, LICENSE; no source maps`
}

function noTopLevelAwait(installed: string): string {
  const scripts = listFiles(installed).filter((file) => file.endsWith('.js'))
  const found = scripts.flatMap((file) => topLevelAwaits(join(installed, file)))
  if (found.length > 0) throw new Error(`top-level await (require() of these modules would fail with ERR_REQUIRE_ASYNC_MODULE):\n${found.join('\n')}`)
  return `${scripts.length} files checked`
}

async function typeCheck(consumer: string, project: string): Promise<string> {
  const tsc = join(consumer, 'node_modules', 'typescript', 'bin', 'tsc')
  expectSuccess(await runChild(process.execPath, [tsc, '-p', project, '--pretty', 'false'], { cwd: consumer, timeoutMs: 120_000 }), `tsc -p ${project}`)
  return 'smoke.ts and kill-scenario.ts, skipLibCheck: false, without @types/better-sqlite3, pg or @types/pg'
}

async function inConsumer(consumer: string, tarball: Tarball): Promise<void> {
  const installed = join(consumer, 'node_modules', 'hearth-runtime')
  await check('the tarball holds only dist, README, LICENSE and package.json', () => tarballContents(installed))
  await check('no top-level await in dist/**/*.js', () => noTopLevelAwait(installed))
  // The two type-checks are independent and tsc is single-threaded: one a core. Each outcome is
  // held as a function, so the second one's failure is not an unhandled rejection while the first is awaited.
  const [nodenext, bundler] = ['tsconfig.json', 'tsconfig.bundler.json'].map((project) =>
    typeCheck(consumer, project).then(
      (detail) => () => detail,
      (error: unknown) => () => {
        throw error
      },
    ),
  ) as [Promise<() => string>, Promise<() => string>]
  await check('type-check with module/moduleResolution nodenext', async () => (await nodenext)())
  await check('type-check with module esnext, moduleResolution bundler', async () => (await bundler)())
  await check('the compiled smoke program runs: SQLite, scripted model, a tool run, HTTP', async () => {
    const result = expectSuccess(await runChild(process.execPath, ['out/smoke.js', consumer], { cwd: consumer, timeoutMs: 30_000 }), 'node out/smoke.js')
    return result.stdout.trim().split('\n').at(-1)
  })
  await check('require() of every subpath from a .cjs file', async () => {
    const result = expectSuccess(await runChild(process.execPath, ['require-all.cjs'], { cwd: consumer, timeoutMs: 30_000 }), 'node require-all.cjs')
    console.log(indent(result.stdout.trimEnd()))
    if (result.stderr.trim() !== '') console.log(indent(`stderr: ${result.stderr.trim()}`))
  })
  await check('vitest in the consumer: runKillTest on a TypeScript scenario, runStoreContract on memoryStore()', async () => {
    const vitest = join(consumer, 'node_modules', 'vitest', 'vitest.mjs')
    const result = await runChild(process.execPath, [vitest, 'run', 'package.test.ts'], { cwd: consumer, timeoutMs: 120_000, env: { ...process.env, CI: 'true' } })
    expectSuccess(result, 'vitest run')
    return tail(result.stdout.replace(/\x1b\[[0-9;]*m/g, ''), 6).split('\n').find((line) => line.includes('Tests'))?.trim()
  })
  await check('load time of the root entry in a fresh process (median of 7)', async () => {
    const times = await measureLoadTimes(consumer, 7)
    const line = (way: 'require' | 'import'): string => `${way}('hearth-runtime') ${median(times[way]).toFixed(1)} ms [${times[way].map((ms) => ms.toFixed(0)).join(', ')}]`
    console.log(indent(`${line('require')}\n${line('import')}\none sample: cd <consumer> && ${loadCommand('require')}`))
  })
  console.log(`tarball: ${kilobytes(tarball.size)} packed, ${kilobytes(tarball.unpackedSize)} unpacked, ${tarball.entryCount} files`)
}

async function main(): Promise<void> {
  const packDirectory = mkdtempSync(join(tmpdir(), 'hearth-pack-'))
  let consumer: string | undefined
  try {
    const built = await check('npm run build', async () => {
      expectSuccess(await runChild('npm', ['run', 'build'], { cwd: root, timeoutMs: 120_000 }), 'npm run build')
    })
    let tarball: Tarball | undefined
    if (built) {
      await check('npm pack', async () => {
        tarball = await pack(root, packDirectory)
        return tarball.path
      })
    }
    if (tarball !== undefined) {
      const packed = tarball
      await check('the consumer project: tarball extracted, dependencies linked, offline', async () => {
        consumer = await makeConsumer(root, packed)
        return consumer
      })
      if (consumer !== undefined) await inConsumer(consumer, tarball)
    }
  } finally {
    rmSync(packDirectory, { recursive: true, force: true })
    if (consumer !== undefined && (failed === 0 || process.env.CI === 'true')) rmSync(consumer, { recursive: true, force: true })
    else if (consumer !== undefined) console.log(`the consumer project is kept for a look: ${consumer}`)
  }
  console.log(`test:package took ${seconds(performance.now() - started)}`)
  console.log(`${passed} passed, ${failed} failed`)
  process.exitCode = failed === 0 ? 0 : 1
}

await main()
