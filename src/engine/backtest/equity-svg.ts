import type { EquityPoint } from './backtest';

export interface SvgOptions {
  width?: number;
  height?: number;
  title?: string;
}

/** A self-contained SVG line chart of the equity curve (no fonts or scripts fetched). */
export function renderEquitySvg(curve: readonly EquityPoint[], options: SvgOptions = {}): string {
  const width = options.width ?? 900;
  const height = options.height ?? 320;
  const pad = { left: 70, right: 20, top: 30, bottom: 40 };
  const values = curve.map((p) => p.equity.toNumber());
  const min = values.length ? Math.min(...values) : 0;
  const max = values.length ? Math.max(...values) : 1;
  const span = max - min || 1;
  const x = (i: number) => pad.left + (values.length > 1 ? (i / (values.length - 1)) * (width - pad.left - pad.right) : 0);
  const y = (v: number) => pad.top + (1 - (v - min) / span) * (height - pad.top - pad.bottom);
  const points = values.map((v, i) => `${x(i).toFixed(1)},${y(v).toFixed(1)}`).join(' ');
  const date = (t: number | undefined) => (t === undefined ? '' : new Date(t).toISOString().slice(0, 16).replace('T', ' '));
  const title = escapeXml(options.title ?? 'Equity');
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="#fff"/>`,
    `<text x="${pad.left}" y="18" font-size="14">${title}</text>`,
    `<line x1="${pad.left}" y1="${height - pad.bottom}" x2="${width - pad.right}" y2="${height - pad.bottom}" stroke="#999"/>`,
    `<line x1="${pad.left}" y1="${pad.top}" x2="${pad.left}" y2="${height - pad.bottom}" stroke="#999"/>`,
    `<text x="${pad.left - 6}" y="${y(max) + 4}" text-anchor="end">${max.toFixed(2)}</text>`,
    `<text x="${pad.left - 6}" y="${y(min) + 4}" text-anchor="end">${min.toFixed(2)}</text>`,
    `<text x="${pad.left}" y="${height - 15}">${date(curve[0]?.time)} UTC</text>`,
    `<text x="${width - pad.right}" y="${height - 15}" text-anchor="end">${date(curve[curve.length - 1]?.time)} UTC</text>`,
    `<polyline fill="none" stroke="#1f6feb" stroke-width="1.5" points="${points}"/>`,
    `</svg>`,
    '',
  ].join('\n');
}

function escapeXml(s: string): string {
  return s.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
