const WIDTH = 120;
const HEIGHT = 28;

/**
 * A small inline SVG line of values (gaps for missing ones), drawn on the server: no script, readable by screen
 * readers through its label.
 */
export function sparklineSvg(
  values: (number | null)[],
  label: string,
  escape: (text: string) => string,
): string {
  const known = values.filter((v): v is number => v !== null);
  const open = `<svg class="sparkline" viewBox="0 0 ${WIDTH} ${HEIGHT}" width="${WIDTH}" height="${HEIGHT}" role="img" aria-label="${escape(label)}">`;
  if (known.length === 0)
    return `${open}<line x1="0" y1="${HEIGHT - 1}" x2="${WIDTH}" y2="${HEIGHT - 1}" class="sparkline-empty"/></svg>`;
  const max = Math.max(...known);
  const min = Math.min(0, ...known);
  const span = max - min || 1;
  const step = values.length > 1 ? WIDTH / (values.length - 1) : WIDTH;
  const segments: string[] = [];
  let current: string[] = [];
  values.forEach((value, index) => {
    if (value === null) {
      if (current.length) segments.push(current.join(' '));
      current = [];
      return;
    }
    const x = (index * step).toFixed(1);
    const y = (HEIGHT - 2 - ((value - min) / span) * (HEIGHT - 4)).toFixed(1);
    current.push(`${current.length ? 'L' : 'M'}${x},${y}`);
  });
  if (current.length) segments.push(current.join(' '));
  // A lone value between gaps draws no line: a dot shows it.
  const dots = values
    .map((value, index) => {
      const alone =
        value !== null && (values[index - 1] ?? null) === null && (values[index + 1] ?? null) === null;
      if (!alone) return '';
      const y = HEIGHT - 2 - ((value - min) / span) * (HEIGHT - 4);
      return `<circle cx="${(index * step).toFixed(1)}" cy="${y.toFixed(1)}" r="1.5" fill="currentColor"/>`;
    })
    .join('');
  return `${open}<path d="${segments.join(' ')}" fill="none" stroke="currentColor" stroke-width="1.5"/>${dots}</svg>`;
}
