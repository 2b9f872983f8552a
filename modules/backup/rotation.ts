/** The backups rotation looks at: done backups whose object is still stored. */
export interface RotationCandidate {
  id: number;
  startedAt: Date;
}

export interface RetentionPolicy {
  timeZone: string;
  /** Keep the N newest backups. */
  keepLast: number | null;
  /** Per tier: keep the newest backup of each of the N most recent periods that have one; null turns it off. */
  keepHourly: number | null;
  keepDaily: number | null;
  keepWeekly: number | null;
  keepMonthly: number | null;
  keepYearly: number | null;
}

type Tier = 'hourly' | 'daily' | 'weekly' | 'monthly' | 'yearly';

const TIERS: [Tier, keyof RetentionPolicy][] = [
  ['hourly', 'keepHourly'],
  ['daily', 'keepDaily'],
  ['weekly', 'keepWeekly'],
  ['monthly', 'keepMonthly'],
  ['yearly', 'keepYearly'],
];

/**
 * The backups to delete, as odoo_backup_sh rotates: each tier keeps the newest backup of each of its N most
 * recent periods (in the policy's time zone, weeks from Monday) that have one; keep-last keeps the N newest; the
 * newest backup is always kept. With no rule at all, nothing is deleted. Pure: the caller deletes.
 */
export function backupsToDelete(backups: RotationCandidate[], policy: RetentionPolicy): number[] {
  const limits = TIERS.map(([tier, field]) => [tier, policy[field]] as const).filter(
    (entry): entry is readonly [Tier, number] => typeof entry[1] === 'number',
  );
  if (policy.keepLast === null && limits.length === 0) return [];
  const newestFirst = [...backups].sort(
    (a, b) => b.startedAt.getTime() - a.startedAt.getTime() || b.id - a.id,
  );
  const keep = new Set<number>();
  if (newestFirst.length) keep.add(newestFirst[0].id);
  for (const backup of newestFirst.slice(0, policy.keepLast ?? 0)) keep.add(backup.id);
  const parts = localParts(policy.timeZone);
  for (const [tier, limit] of limits) {
    const periods = new Set<string>();
    for (const backup of newestFirst) {
      const period = periodKey(tier, parts(backup.startedAt));
      if (periods.has(period)) continue;
      if (periods.size >= limit) break;
      periods.add(period);
      keep.add(backup.id);
    }
  }
  return newestFirst.filter((b) => !keep.has(b.id)).map((b) => b.id);
}

interface LocalParts {
  year: number;
  month: number;
  day: number;
  hour: number;
}

function localParts(timeZone: string): (date: Date) => LocalParts {
  const format = new Intl.DateTimeFormat('en-US', {
    timeZone,
    year: 'numeric',
    month: 'numeric',
    day: 'numeric',
    hour: 'numeric',
    hourCycle: 'h23',
  });
  return (date) => {
    const values = Object.fromEntries(
      format.formatToParts(date).map((part) => [part.type, Number(part.value)] as const),
    ) as Record<string, number>;
    return { year: values.year, month: values.month, day: values.day, hour: values.hour };
  };
}

function periodKey(tier: Tier, p: LocalParts): string {
  switch (tier) {
    case 'hourly':
      return `${p.year}-${p.month}-${p.day} ${p.hour}`;
    case 'daily':
      return `${p.year}-${p.month}-${p.day}`;
    case 'weekly': {
      // The Monday that starts the local date's week, computed on the calendar date alone (no time zone).
      const date = new Date(Date.UTC(p.year, p.month - 1, p.day));
      const sinceMonday = (date.getUTCDay() + 6) % 7;
      date.setUTCDate(date.getUTCDate() - sinceMonday);
      return date.toISOString().slice(0, 10);
    }
    case 'monthly':
      return `${p.year}-${p.month}`;
    case 'yearly':
      return `${p.year}`;
  }
}
