/** `npm run build:inspector`: writes adapters/http/inspector/assets.ts from the page's sources. */
import { writeFileSync } from 'node:fs'
import { assetsModule, assetsModuleText, compileInspector } from './inspector-assets.js'

const assets = compileInspector()
writeFileSync(assetsModule, assetsModuleText(assets))
console.log(`wrote ${assetsModule}: script ${Buffer.byteLength(assets.script)} bytes, style ${Buffer.byteLength(assets.style)} bytes`)
