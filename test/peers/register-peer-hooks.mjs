/**
 * `node --import ./test/peers/register-peer-hooks.mjs`: registers
 * `peer-hooks.mjs` with the peers in HEARTH_HIDE_PEERS (comma-separated)
 * hidden, logging resolutions to HEARTH_PEER_LOG when set.
 */
import { register } from 'node:module'

const hide = (process.env.HEARTH_HIDE_PEERS ?? '').split(',').filter((name) => name !== '')
register('./peer-hooks.mjs', import.meta.url, {
  data: { hide, log: process.env.HEARTH_PEER_LOG, root: new URL('../../', import.meta.url).href },
})
