/** Sizes and durations as people read them, in the reader's language (`12.3 MB`, `1 min 5 s`). */

const SIZE_UNITS = ['byte', 'kilobyte', 'megabyte', 'gigabyte', 'terabyte'] as const;

export function humanSize(bytes: number, lang: string): string {
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < SIZE_UNITS.length - 1) {
    value /= 1000;
    unit++;
  }
  return new Intl.NumberFormat(lang, {
    style: 'unit',
    unit: SIZE_UNITS[unit],
    unitDisplay: 'short',
    maximumFractionDigits: unit === 0 ? 0 : 1,
  }).format(value);
}

const unit = (value: number, name: string, lang: string, digits = 0) =>
  new Intl.NumberFormat(lang, {
    style: 'unit',
    unit: name,
    unitDisplay: 'short',
    maximumFractionDigits: digits,
  }).format(value);

export function humanDuration(ms: number, lang: string): string {
  const seconds = Math.max(ms, 0) / 1000;
  if (seconds < 60) return unit(seconds, 'second', lang, seconds < 10 ? 1 : 0);
  const whole = Math.round(seconds);
  const minutes = Math.floor(whole / 60);
  if (minutes < 60) return `${unit(minutes, 'minute', lang)} ${unit(whole % 60, 'second', lang)}`;
  return `${unit(Math.floor(minutes / 60), 'hour', lang)} ${unit(minutes % 60, 'minute', lang)}`;
}
