/**
 * What `@nestjs/throttler` would cost a check-in, against the token buckets the check-in path uses: the guard
 * configured as issue 9 asks (two named throttlers, `source` by address and `uuid` by the body's uuid through a
 * custom tracker, limits resolved from the settings), called on a fake HTTP context as Nest calls it, in process.
 * `node dist/bench/checkin/throttler-cost.js` — prints microseconds per check-in for each; compare with the
 * server's CPU per check-in that `run.ts` prints (about 150-270 µs on the 2-core machine).
 */
import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import type { ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { ThrottlerGuard, ThrottlerStorageService, type ThrottlerModuleOptions } from '@nestjs/throttler';
import { TokenBuckets } from '../../modules/dead_mans_switch_server/checkin/token-buckets.js';

const CALLS = Number(process.env.BENCH_CALLS ?? 200_000);
const UUIDS = Array.from({ length: 10_000 }, () => randomUUID());
const SOURCES = UUIDS.map((_, i) => `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`);
// The defaults: 1,200 a minute per source address, 30 per uuid. Each of the 10,000 uuids checks in from its own
// address, 20 times in all: nothing is refused, as in production (its in-memory storage keeps one timestamp per hit
// and key, so a single address sending everything would measure that instead).
const perMinute = { source: 1200, uuid: 30 };

class Handler {}
const alive = () => undefined;

function context(uuid: string, index: number): ExecutionContext {
  const request = {
    ip: `10.${(index >> 16) & 255}.${(index >> 8) & 255}.${index & 255}`,
    headers: {},
    body: { jsonrpc: '2.0', method: 'call', params: { database_uuid: uuid } },
  };
  const response = { header: () => undefined, setHeader: () => undefined };
  return {
    getHandler: () => alive,
    getClass: () => Handler,
    getType: () => 'http',
    switchToHttp: () => ({
      getRequest: () => request,
      getResponse: () => response,
      getNext: () => undefined,
    }),
  } as unknown as ExecutionContext;
}

const uuidOf = (req: Record<string, unknown>) => {
  const body = req.body as { params?: { database_uuid?: string }; database_uuid?: string };
  return String(body.params?.database_uuid ?? body.database_uuid);
};

async function timeGuard(label: string, options: ThrottlerModuleOptions): Promise<number> {
  const guard = new ThrottlerGuard(options, new ThrottlerStorageService(), new Reflector());
  await guard.onModuleInit();
  const contexts = UUIDS.map((uuid, index) => context(uuid, index));
  for (let i = 0; i < 20_000; i++) await guard.canActivate(contexts[i % contexts.length]);
  const start = performance.now();
  for (let i = 0; i < CALLS; i++) await guard.canActivate(contexts[i % contexts.length]);
  const us = ((performance.now() - start) * 1000) / CALLS;
  console.log(`${label}: ${us.toFixed(2)} µs per check-in`);
  return us;
}

async function main(): Promise<void> {
  // The settings, as the check-in path reads them: cached, resolved per request.
  const limits = { source: () => perMinute.source, uuid: () => perMinute.uuid };
  await timeGuard('ThrottlerGuard, named throttlers, uuid tracker, default key (sha256) and headers', {
    throttlers: [
      { name: 'source', ttl: 60_000, limit: limits.source },
      { name: 'uuid', ttl: 60_000, limit: limits.uuid, getTracker: uuidOf },
    ],
  });
  await timeGuard('ThrottlerGuard, the same, plain keys and no headers (its cheapest)', {
    throttlers: [
      { name: 'source', ttl: 60_000, limit: limits.source },
      { name: 'uuid', ttl: 60_000, limit: limits.uuid, getTracker: uuidOf },
    ],
    generateKey: (_context, tracker, name) => `${name}:${tracker}`,
    setHeaders: false,
  });
  const source = new TokenBuckets(perMinute.source, perMinute.source);
  const uuid = new TokenBuckets(perMinute.uuid, perMinute.uuid);
  const run = (n: number) => {
    for (let i = 0; i < n; i++) {
      const now = new Date();
      source.take(SOURCES[i % SOURCES.length], now);
      uuid.take(UUIDS[i % UUIDS.length], now);
    }
  };
  run(20_000);
  const start = performance.now();
  run(CALLS);
  console.log(
    `TokenBuckets (today): ${(((performance.now() - start) * 1000) / CALLS).toFixed(2)} µs per check-in`,
  );
}

void main();
