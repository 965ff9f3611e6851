import { hostname } from 'node:os'
import { describe, expect, it } from 'vitest'
import { isOwnerDead, processState, statState } from '../../src/ownership.js'
import type { Owner } from '../../src/store.js'
import { spawnZombie } from '../zombie.js'

const owner = (pid: number, host = hostname()): Owner => {
  const now = new Date().toISOString()
  return { id: 'own_test', pid, host, startedAt: now, heartbeatAt: now }
}
const lease = 600_000

describe('the state field of /proc/<pid>/stat', () => {
  it('is the first field after the last parenthesis, whatever the command name holds', () => {
    expect(statState('42 (node) S 1 42 42 0 -1')).toBe('S')
    expect(statState('42 (a) R (b) Z 1 42 42 0 -1')).toBe('Z')
    expect(statState('42 (x y)) R 1')).toBe('R')
    expect(statState('42 () X 1')).toBe('X')
    expect(statState('')).toBeUndefined()
    expect(statState('42 (node)')).toBeUndefined()
  })

  it('is undefined for a process that does not exist', () => {
    expect(processState(2 ** 22 + 12345)).toBeUndefined()
    expect(processState(process.pid)).toMatch(/^[RS]$/)
  })
})

describe('an owner on this host whose process is a zombie', () => {
  it('is dead at once, though kill(pid, 0) finds its process; its live parent is not', async () => {
    // The name tricks a parser that splits the line on spaces into reading `R`.
    const zombie = await spawnZombie('a) R (b')
    try {
      expect(processState(zombie.pid)).toBe('Z')
      expect(() => process.kill(zombie.pid, 0)).not.toThrow()
      expect(isOwnerDead(owner(zombie.pid), lease, Date.now())).toBe(true)
      expect(isOwnerDead(owner(zombie.parentPid), lease, Date.now())).toBe(false)
      // On another host the pid means nothing here: only the lease decides.
      expect(isOwnerDead(owner(zombie.pid, 'elsewhere'), lease, Date.now())).toBe(false)
      expect(isOwnerDead(owner(zombie.pid, 'elsewhere'), lease, Date.now() + lease + 1)).toBe(true)
    } finally {
      await zombie.release()
    }
    expect(processState(zombie.pid)).toBeUndefined()
    expect(isOwnerDead(owner(zombie.pid), lease, Date.now())).toBe(true)
    // A store whose owners may live in other machines' or containers' pid spaces (PostgreSQL) asks the lease alone.
    expect(isOwnerDead(owner(zombie.pid), lease, Date.now(), false)).toBe(false)
    expect(isOwnerDead(owner(zombie.pid), lease, Date.now() + lease + 1, false)).toBe(true)
  })
})
