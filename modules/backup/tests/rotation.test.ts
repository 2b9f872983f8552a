import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { backupsToDelete, type RetentionPolicy, type RotationCandidate } from '../rotation.js';

const NONE: RetentionPolicy = {
  timeZone: 'Europe/Brussels',
  keepLast: null,
  keepHourly: null,
  keepDaily: null,
  keepWeekly: null,
  keepMonthly: null,
  keepYearly: null,
};

/** Brussels local date of a backup, `YYYY-MM-DD`. */
const localDay = (date: Date) => date.toLocaleDateString('sv-SE', { timeZone: 'Europe/Brussels' });

/** One backup a day at 03:00 Brussels time (01:00 or 02:00 UTC depending on DST) from `from` to `to`. */
function dailyBackups(from: string, to: string): RotationCandidate[] {
  const backups: RotationCandidate[] = [];
  for (let day = new Date(`${from}T12:00:00Z`); day <= new Date(`${to}T12:00:00Z`);) {
    const iso = day.toISOString().slice(0, 10);
    const offset = new Date(`${iso}T12:00:00Z`).toLocaleString('en', {
      timeZone: 'Europe/Brussels',
      timeZoneName: 'shortOffset',
    });
    const utcHour = 3 - Number(/GMT\+(\d)/.exec(offset)![1]);
    backups.push({ id: backups.length + 1, startedAt: new Date(`${iso}T0${utcHour}:00:00Z`) });
    day = new Date(day.getTime() + 86_400_000);
  }
  return backups;
}

/** Runs rotation after each new backup, as the runner does after each success; returns what survives. */
function simulate(backups: RotationCandidate[], policy: RetentionPolicy): RotationCandidate[] {
  let stored: RotationCandidate[] = [];
  for (const backup of backups) {
    stored.push(backup);
    const doomed = new Set(backupsToDelete(stored, policy));
    stored = stored.filter((b) => !doomed.has(b.id));
  }
  return stored;
}

describe('rotation (pure)', () => {
  it('keeps everything when no rule is set', () => {
    const backups = dailyBackups('2025-01-01', '2025-03-01');
    assert.deepEqual(backupsToDelete(backups, NONE), []);
  });

  it('keeps exactly the expected backups over a simulated year of daily backups', () => {
    const year = dailyBackups('2025-01-01', '2025-12-31');
    assert.equal(year.length, 365);
    const kept = simulate(year, { ...NONE, keepDaily: 7, keepWeekly: 4, keepMonthly: 3, keepYearly: 2 });
    assert.deepEqual(kept.map((b) => localDay(b.startedAt)).sort(), [
      // yearly 2: 2025 only has a newest (Dec 31); monthly 3: Dec 31, Nov 30, Oct 31
      '2025-10-31',
      '2025-11-30',
      // weekly 4 (weeks from Monday): Dec 29-, Dec 22- (Sun 28), Dec 15- (Sun 21), Dec 8- (Sun 14)
      '2025-12-14',
      '2025-12-21',
      // daily 7
      '2025-12-25',
      '2025-12-26',
      '2025-12-27',
      '2025-12-28',
      '2025-12-29',
      '2025-12-30',
      '2025-12-31',
    ]);
    // Every kept backup is still 03:00 in Brussels, across both DST changes.
    for (const backup of kept)
      assert.equal(backup.startedAt.toLocaleTimeString('en-GB', { timeZone: 'Europe/Brussels' }), '03:00:00');
  });

  it('keep-last keeps the N newest', () => {
    const backups = dailyBackups('2025-06-01', '2025-06-10');
    const kept = simulate(backups, { ...NONE, keepLast: 3 });
    assert.deepEqual(
      kept.map((b) => localDay(b.startedAt)),
      ['2025-06-08', '2025-06-09', '2025-06-10'],
    );
  });

  it('counts periods in the time zone: a backup after local midnight on 31 December belongs to the new year', () => {
    const backups = [
      { id: 1, startedAt: new Date('2025-12-30T22:30:00Z') },
      { id: 2, startedAt: new Date('2025-12-31T22:30:00Z') }, // 23:30 in Brussels: 2025
      { id: 3, startedAt: new Date('2025-12-31T23:30:00Z') }, // 00:30 on 1 January 2026 in Brussels
    ];
    assert.deepEqual(backupsToDelete(backups, { ...NONE, keepYearly: 2 }), [1]);
    // In UTC all three are 2025: only the newest stays for that year.
    assert.deepEqual(backupsToDelete(backups, { ...NONE, keepYearly: 2, timeZone: 'UTC' }), [2, 1]);
  });

  it('starts weeks on Monday', () => {
    const backups = [
      { id: 1, startedAt: new Date('2025-03-08T10:00:00Z') }, // Saturday
      { id: 2, startedAt: new Date('2025-03-09T10:00:00Z') }, // Sunday, same week
      { id: 3, startedAt: new Date('2025-03-10T10:00:00Z') }, // Monday, a new week
    ];
    assert.deepEqual(backupsToDelete(backups, { ...NONE, keepWeekly: 2 }), [1]);
  });

  it('skips periods without backups: the N most recent periods that have one', () => {
    const backups = [
      { id: 1, startedAt: new Date('2025-01-15T10:00:00Z') },
      { id: 2, startedAt: new Date('2025-02-15T10:00:00Z') },
      // nothing in March and April
      { id: 3, startedAt: new Date('2025-05-15T10:00:00Z') },
    ];
    assert.deepEqual(backupsToDelete(backups, { ...NONE, keepMonthly: 2 }), [1]);
  });

  it('always keeps the newest backup', () => {
    const backups = [
      { id: 1, startedAt: new Date('2025-01-01T10:00:00Z') },
      { id: 2, startedAt: new Date('2025-01-01T11:00:00Z') },
    ];
    assert.deepEqual(backupsToDelete(backups, { ...NONE, keepYearly: 1 }), [1]);
    assert.deepEqual(backupsToDelete(backups, { ...NONE, keepLast: 1 }), [1]);
  });
});
