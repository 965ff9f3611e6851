/**
 * Time-sortable ids with a prefix (`run_...`, `thr_...`): 10 characters of
 * millisecond time and 16 of randomness in Crockford base32, like a ULID.
 * Ids made in one process are strictly increasing, even within a millisecond,
 * so sorting by id sorts by creation.
 */

const alphabet = '0123456789ABCDEFGHJKMNPQRSTVWXYZ'
let lastTime = -1
const lastRandom = new Uint8Array(16)

function encodeTime(time: number): string {
  let out = ''
  for (let index = 0; index < 10; index++) {
    out = alphabet[time % 32] + out
    time = Math.floor(time / 32)
  }
  return out
}

function nextRandom(time: number): string {
  if (time === lastTime) {
    // Same millisecond: increment the previous random part so ids stay ordered.
    let index = 15
    while (index >= 0 && lastRandom[index] === 31) lastRandom[index--] = 0
    if (index >= 0) lastRandom[index] = (lastRandom[index] as number) + 1
  } else {
    lastTime = time
    if (poolOffset + 16 > pool.length) {
      crypto.getRandomValues(pool)
      poolOffset = 0
    }
    // Keep headroom below the top so increments within a millisecond cannot wrap.
    for (let index = 0; index < 16; index++) lastRandom[index] = (pool[poolOffset++] as number) & (index === 0 ? 15 : 31)
  }
  let out = ''
  for (let index = 0; index < 16; index++) out += alphabet[lastRandom[index] as number]
  return out
}

/** A new time-sortable id with the given prefix, e.g. `createId('run')` -> `run_01J...`. */
export function createId(prefix: string): string {
  const time = Math.max(Date.now(), lastTime)
  return `${prefix}_${encodeTime(time)}${nextRandom(time)}`
}

// Random bytes are drawn 4 KiB at a time: one system call per 256 trace ids.
const pool = new Uint8Array(4096)
let poolOffset = pool.length
const hex = Array.from({ length: 256 }, (_, byte) => byte.toString(16).padStart(2, '0'))

/** A W3C-style trace id: 32 lowercase hex characters. */
export function createTraceId(): string {
  if (poolOffset + 16 > pool.length) {
    crypto.getRandomValues(pool)
    poolOffset = 0
  }
  let out = ''
  for (let index = 0; index < 16; index++) out += hex[pool[poolOffset++] as number]
  return out
}
