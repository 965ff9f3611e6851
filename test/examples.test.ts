import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'

const run = promisify(execFile)

// The examples import 'hearth-runtime' as a user does: through the package's exports, i.e. dist/ (built by prepare).
describe('the examples run as written', () => {
  it('quickstart streams a tool call and a completed run', async () => {
    const { stdout } = await run(process.execPath, ['--import', 'tsx', 'examples/quickstart.ts'], { timeout: 30_000 })
    expect(stdout).toMatch(/tool\.result .*"output":5/)
    expect(stdout).toMatch(/run\.completed \{"content":"2 \+ 3 = 5"/)
  })

  it('openai-compatible runs an agent through the openai client against a local wire-format server', async () => {
    const { stdout } = await run(process.execPath, ['--import', 'tsx', 'examples/openai-compatible.ts'], {
      timeout: 30_000,
      env: { ...process.env, OPENAI_API_KEY: '', OPENAI_BASE_URL: '' },
    })
    expect(stdout).toContain('local, OpenAI wire format')
    expect(stdout).toMatch(/tool\.result .*"output":42/)
    expect(stdout).toContain('completed: 19 + 23 = 42.')
  })
})
