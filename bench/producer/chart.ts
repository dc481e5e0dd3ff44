// Plain SVG bar chart of the producer benchmark: records/s per producer, Safe and
// High-throughput side by side, log scale (the other nodes are 2-3 orders of magnitude
// below). No plotting package.
import { PRESETS, type PresetId, type RunResult } from './common';

const COLORS: Record<PresetId, string> = { safe: '#2f6db5', throughput: '#e07b24' };

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function short(r: RunResult): string {
  switch (r.id) {
    case 'java-pp':
      return 'Java ProducerPerformance';
    case 'java-keyed':
      return 'Java KafkaProducer (keyed set)';
    case 'raw-kafkajs':
      return 'raw kafkajs sendBatch';
    case 'node':
      return 'this node (Node-RED)';
    default:
      return r.label.replace(' in Node-RED', '').replace(/ \d+\.\d+\.\d+$/, '');
  }
}

export function renderChart(results: RunResult[]): string {
  const order: string[] = [];
  for (const r of results) if (!order.includes(r.id)) order.push(r.id);
  const presets = (Object.keys(PRESETS) as PresetId[]).filter((p) => results.some((r) => r.preset === p));
  const max = Math.max(1, ...results.map((r) => r.recordsPerSec).filter(Number.isFinite));
  const min = Math.min(max / 10, ...results.map((r) => r.recordsPerSec).filter((v) => Number.isFinite(v) && v > 0));
  const lo = 10 ** Math.floor(Math.log10(min));
  const hi = max * 1.8; // room for the value labels
  const left = 250;
  const plotW = 560;
  const barH = 14;
  const gap = 3;
  const groupGap = 14;
  const top = 58;
  const groupH = presets.length * (barH + gap) - gap;
  const height = top + order.length * (groupH + groupGap) + 40;
  const width = left + plotW + 110;
  const x = (v: number) => left + ((Math.log10(v) - Math.log10(lo)) / (Math.log10(hi) - Math.log10(lo))) * plotW;
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="Helvetica, Arial, sans-serif" font-size="12">`);
  out.push(`<rect width="${width}" height="${height}" fill="#ffffff"/>`);
  out.push(`<text x="10" y="20" font-size="15" font-weight="bold">Producer throughput, records/s (log scale), 1 KB records keyed by user id (ProducerPerformance: unkeyed), 12 partitions</text>`);
  presets.forEach((p, i) => {
    const lx = left + i * 170;
    out.push(`<rect x="${lx}" y="32" width="12" height="12" fill="${COLORS[p]}"/><text x="${lx + 17}" y="42">${esc(PRESETS[p].label)} preset</text>`);
  });
  const bottom = height - 30;
  for (let d = lo; d <= hi * 1.0001; d *= 10) {
    const gx = x(d);
    out.push(`<line x1="${gx.toFixed(1)}" y1="${top - 6}" x2="${gx.toFixed(1)}" y2="${bottom}" stroke="#dddddd"/>`);
    const label = d >= 1e6 ? `${d / 1e6}M` : d >= 1e3 ? `${d / 1e3}k` : String(d);
    out.push(`<text x="${gx.toFixed(1)}" y="${bottom + 16}" text-anchor="middle" fill="#555555">${label}</text>`);
  }
  order.forEach((id, g) => {
    const gy = top + g * (groupH + groupGap);
    const any = results.find((r) => r.id === id)!;
    out.push(`<text x="${left - 8}" y="${(gy + groupH / 2 + 4).toFixed(1)}" text-anchor="end"${id === 'node' ? ' font-weight="bold"' : ''}>${esc(short(any))}</text>`);
    presets.forEach((p, i) => {
      const r = results.find((x2) => x2.id === id && x2.preset === p);
      const y = gy + i * (barH + gap);
      if (!r || !(r.recordsPerSec > 0)) {
        out.push(`<text x="${left + 4}" y="${y + barH - 3}" fill="#888888">not run (see the notes)</text>`);
        return;
      }
      const w = Math.max(1, x(r.recordsPerSec) - left);
      out.push(`<rect x="${left}" y="${y}" width="${w.toFixed(1)}" height="${barH}" fill="${COLORS[p]}"/>`);
      out.push(`<text x="${(left + w + 5).toFixed(1)}" y="${y + barH - 3}">${Math.round(r.recordsPerSec).toLocaleString('en-US')}</text>`);
    });
  });
  out.push(`<line x1="${left}" y1="${top - 6}" x2="${left}" y2="${bottom}" stroke="#333333"/>`);
  out.push('</svg>');
  return out.join('\n') + '\n';
}
