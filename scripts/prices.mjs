#!/usr/bin/env node
// Regenerates codec/price/prices.json, the compact price table embedded in
// openclaw-trace, from the @pydantic/genai-prices npm package (MIT).
//
//   scripts/prices.sh [VERSION]          # npm pack into a temp dir, then this
//   node scripts/prices.mjs DIR OUT.gz   # DIR: an unpacked package
//
// Kept: per provider its id, provider_match, fallback providers, and per model
// {id, m: match rule, p: prices} with the token prices active at generation time (USD per
// million tokens): input, cache read, cache write, output, reasoning output.
// Dropped: extractors, audio/image/search/request prices, descriptions, past
// and time-of-day prices (the off-peak entries are not the default price).
import { readFileSync, writeFileSync } from 'node:fs'
import { gzipSync } from 'node:zlib'
import { join, resolve } from 'node:path'
import { pathToFileURL } from 'node:url'

const dir = resolve(process.argv[2] || '.')
const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'))
const { waitForUpdate } = await import(pathToFileURL(join(dir, 'dist', 'index.js')).href)
const providers = await waitForUpdate() // the bundled data; no network fetch
const now = new Date(process.env.PRICES_AT || Date.now())

// genai-prices key -> ours
const KEYS = {
  input_mtok: 'in',
  cache_read_mtok: 'cr',
  cache_write_mtok: 'cw',
  output_mtok: 'out',
  output_reasoning_mtok: 'rsn',
}

// current picks the prices in force at now, as genai-prices' own lookup does
// (last entry whose start date has passed; an unconstrained entry always
// applies), skipping time-of-day windows.
function current(prices) {
  if (!Array.isArray(prices)) return prices
  for (let i = prices.length - 1; i >= 0; i--) {
    const c = prices[i].constraint
    if (c === undefined) return prices[i].prices
    if (c.type === 'start_date' || (c.start_date && !c.type)) {
      if (now >= new Date(c.start_date)) return prices[i].prices
    }
  }
  return null
}

// goMatch rewrites the one regex form Go's RE2 lacks, a leading negative
// lookahead "^(?!.*X)", as {not: {regex: X}}; any other lookaround stops the
// build rather than ship a rule Go cannot run.
function goMatch(m) {
  if (Array.isArray(m)) return m.map(goMatch)
  if (typeof m !== 'object' || m === null) return m
  const out = {}
  for (const [k, v] of Object.entries(m)) {
    if (k === 'regex' && v.startsWith('^(?!.*') && v.endsWith(')') && !/\(\?[!=<]/.test(v.slice(6, -1))) {
      return { not: { regex: v.slice(6, -1) } }
    }
    if (k === 'regex' && /\(\?[!=<]/.test(v)) throw new Error(`regex with lookaround: ${v}`)
    out[k] = goMatch(v)
  }
  return out
}

function compactPrice(v) {
  if (typeof v === 'number') return v
  // tiered: {base, tiers:[{start, price}]} -> [base, [start, price], ...]
  return [v.base, ...[...v.tiers].sort((a, b) => a.start - b.start).map((t) => [t.start, t.price])]
}

const out = {
  source: 'https://github.com/pydantic/genai-prices',
  package: `${pkg.name}@${pkg.version}`,
  license: pkg.license,
  generated: now.toISOString().slice(0, 10),
  version: `genai-prices-${pkg.version}`,
  providers: [],
}
for (const p of providers) {
  const models = []
  for (const m of p.models) {
    const cur = current(m.prices)
    if (!cur) continue
    const pr = {}
    for (const [k, short] of Object.entries(KEYS)) {
      if (cur[k] !== undefined) pr[short] = compactPrice(cur[k])
    }
    if (pr.in === undefined && pr.out === undefined) continue // not a token-priced model
    models.push({ id: m.id, m: goMatch(m.match), p: pr })
  }
  const e = { id: p.id }
  if (p.provider_match) e.match = p.provider_match
  if (p.fallback_model_providers) e.fallback = p.fallback_model_providers
  e.models = models
  out.providers.push(e)
}
// One provider per line keeps diffs between versions readable.
const lines = JSON.stringify({ ...out, providers: [] }).replace(/"providers":\[\]\}$/, '"providers":[\n')
const text = lines + out.providers.map((p) => JSON.stringify(p)).join(',\n') + '\n]}\n'
const dest = process.argv[3]
if (!dest) {
  process.stdout.write(text)
} else {
  // gzip keeps the embedded table at ~26 KB instead of ~180 KB of binary.
  writeFileSync(dest, gzipSync(Buffer.from(text), { level: 9 }))
  console.error(`${dest}: ${out.package}, ${out.providers.length} providers, ${text.length} bytes of JSON`)
}
