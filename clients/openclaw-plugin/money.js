'use strict';
// How the guard writes money and times for people.

// fmtUSD writes dollars with the precision small budgets need: $12.50,
// $0.0135, $0.00004.
function fmtUSD(usd) {
  if (!(usd > 0)) return '$0';
  if (usd >= 1) return `$${usd.toFixed(2)}`;
  const digits = Math.min(9, Math.max(2, 1 - Math.floor(Math.log10(usd)) + 2));
  let s = usd.toFixed(digits);
  while (s.endsWith('0') && s.length - s.indexOf('.') > 3) s = s.slice(0, -1);
  return `$${s}`;
}

const formats = new Map(); // zone -> Intl.DateTimeFormat (a few zones per process)

// fmtTime writes unix ms as "2026-12-06 00:00 Europe/Paris" in the
// budgets' zone (OCT_BUDGET_TZ), UTC if the zone is unknown here.
function fmtTime(ms, zone) {
  let f = formats.get(zone);
  if (f === undefined) {
    try {
      f = new Intl.DateTimeFormat('en-CA', { timeZone: zone, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
    } catch {
      f = null;
    }
    if (formats.size < 16) formats.set(zone, f);
  }
  if (!f) return `${new Date(ms).toISOString().slice(0, 16).replace('T', ' ')} UTC`;
  const p = {};
  for (const { type, value } of f.formatToParts(new Date(ms))) p[type] = value;
  return `${p.year}-${p.month}-${p.day} ${p.hour}:${p.minute} ${zone}`;
}

module.exports = { fmtUSD, fmtTime };
