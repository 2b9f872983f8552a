import type { UptimeDay } from './uptime.js';

const escape = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** The colour class of a day's bar (the addon's stylesheet fills them). */
export function levelOf(percent: number | null): string {
  if (percent === null) return 'none';
  if (percent >= 99.9) return 'full';
  if (percent >= 99) return 'high';
  if (percent >= 95) return 'mid';
  return 'low';
}

/**
 * The 90-day bar of one instance as inline SVG (no inline style, which the CSP forbids: classes, filled by the
 * stylesheet). It scales to the width of its container; `label` names it for screen readers, each day has a title.
 */
export function uptimeBarSvg(days: UptimeDay[], label: string, dayTitle: (day: UptimeDay) => string): string {
  const width = 4;
  const rects = days
    .map(
      (day, index) =>
        `<rect x="${index * width}" y="0" width="${width - 1}" height="24" class="bar-${levelOf(day.percent)}"><title>${escape(dayTitle(day))}</title></rect>`,
    )
    .join('');
  return `<svg class="uptime-bar" role="img" aria-label="${escape(label)}" viewBox="0 0 ${days.length * width} 24" preserveAspectRatio="none" xmlns="http://www.w3.org/2000/svg">${rects}</svg>`;
}

const BADGE_COLORS: Record<string, string> = {
  brightgreen: '#2e7d32',
  yellow: '#8a6d00',
  red: '#c62828',
  blue: '#1565c0',
};

/** A flat shields.io-like badge: `label | message`, white text on grey and on the state's colour. */
export function badgeSvg(label: string, message: string, color: string): string {
  // About 7 px per character of 11 px Verdana, plus padding.
  const w = (text: string) => Math.round(text.length * 7 + 10);
  const [lw, mw] = [w(label), w(message)];
  const fill = BADGE_COLORS[color] ?? '#555';
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${lw + mw}" height="20" role="img" aria-label="${escape(`${label}: ${message}`)}"><title>${escape(`${label}: ${message}`)}</title><rect width="${lw}" height="20" fill="#555"/><rect x="${lw}" width="${mw}" height="20" fill="${fill}"/><g fill="#fff" text-anchor="middle" font-family="Verdana,DejaVu Sans,sans-serif" font-size="11"><text x="${lw / 2}" y="14">${escape(label)}</text><text x="${lw + mw / 2}" y="14">${escape(message)}</text></g></svg>`;
}
