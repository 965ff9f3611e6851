/**
 * The tarball and the consumer project it is installed into, offline: the
 * tarball is extracted into `node_modules/hearth-runtime` and every other
 * package the consumer needs is a symlink into the repo's node_modules. Node
 * and TypeScript resolve a symlinked package's own dependencies from its real
 * path, so only the packages the consumer itself names are linked, and
 * hearth-runtime, a real folder here, finds nothing it does not declare.
 * `@types/better-sqlite3` and `pg` (with `@types/pg`) are left out on
 * purpose: the sqlite and postgres declarations must type-check without them,
 * and importing hearth-runtime/postgres must not load pg.
 */
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, relative } from 'node:path'
import { expectSuccess, runChild } from './child.js'

/** What `npm pack` made. */
export interface Tarball {
  path: string
  /** Bytes of the .tgz. */
  size: number
  /** Bytes of its files unpacked. */
  unpackedSize: number
  entryCount: number
}

/** The packages linked into the consumer: hearth-runtime's dependencies and peers, and the consumer's tools. */
export const linkedPackages = ['zod', 'p-queue', 'eventemitter3', 'better-sqlite3', 'openai', '@anthropic-ai/sdk', '@opentelemetry/api', 'tsx', 'vitest', 'typescript', '@types/node'] as const

const fixtures = new URL('./fixtures/', import.meta.url)

/** Packs the built package (no scripts: the caller has built it) into `directory`. */
export async function pack(root: string, directory: string): Promise<Tarball> {
  const result = expectSuccess(
    await runChild('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', directory], { cwd: root, timeoutMs: 60_000 }),
    'npm pack',
  )
  const [info] = JSON.parse(result.stdout) as { filename: string; size: number; unpackedSize: number; entryCount: number }[]
  if (info === undefined) throw new Error(`npm pack printed no tarball: ${result.stdout}`)
  return { path: join(directory, info.filename), size: info.size, unpackedSize: info.unpackedSize, entryCount: info.entryCount }
}

/** Every file under `directory`, as paths relative to it. */
export function listFiles(directory: string): string[] {
  return readdirSync(directory, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => relative(directory, join(entry.parentPath, entry.name)))
    .sort()
}

/**
 * Makes the consumer project in a new folder of the OS temp dir: a package.json,
 * the fixtures, the extracted tarball and the links. Resolves with its path.
 */
export async function makeConsumer(root: string, tarball: Tarball): Promise<string> {
  const consumer = mkdtempSync(join(tmpdir(), 'hearth-consumer-'))
  const installed = join(consumer, 'node_modules', 'hearth-runtime')
  mkdirSync(installed, { recursive: true })
  expectSuccess(await runChild('tar', ['-xzf', tarball.path, '-C', installed, '--strip-components=1'], { cwd: consumer, timeoutMs: 30_000 }), 'tar')
  for (const name of linkedPackages) {
    const link = join(consumer, 'node_modules', name)
    mkdirSync(dirname(link), { recursive: true })
    symlinkSync(join(root, 'node_modules', name), link, 'dir')
  }
  writeFileSync(
    join(consumer, 'package.json'),
    `${JSON.stringify({ name: 'hearth-consumer', private: true, type: 'module', dependencies: { 'hearth-runtime': `file:${tarball.path}` } }, null, 2)}\n`,
  )
  const copies: Record<string, string> = {
    'smoke.ts': 'smoke.ts',
    'kill-scenario.ts': 'kill-scenario.ts',
    'consumer-suite.ts': 'package.test.ts',
    'require-all.cjs': 'require-all.cjs',
    'tsconfig.nodenext.json': 'tsconfig.json',
    'tsconfig.bundler.json': 'tsconfig.bundler.json',
  }
  for (const [from, to] of Object.entries(copies)) copyFileSync(new URL(from, fixtures), join(consumer, to))
  return consumer
}
