/**
 * A throwaway to weigh Nest's HTTP adapters on the check-in path: a minimal Nest application (one controller,
 * no guard, no interceptor, no logger) doing what the reference server does — Vigil's parser and Vigil's
 * one-statement check-in on a `pg` pool — on Express (`@nestjs/platform-express`, Nest's default body parser) or on
 * Fastify (`@nestjs/platform-fastify`). `PROTOTYPE_ADAPTER=express|fastify node nest-prototype.js <port>`.
 *
 * Vigil runs on Fastify; `@nestjs/platform-express` is no longer a dependency: install it for the measurement only
 * (`npm install --no-save @nestjs/platform-express@12`); `run.ts` measures the prototypes with BENCH_ADAPTERS=1.
 */
import 'reflect-metadata';
import {
  BadRequestException,
  Body,
  Controller,
  Get,
  HttpCode,
  Module,
  NotFoundException,
  Post,
} from '@nestjs/common';
import { NestFactory, type AbstractHttpAdapter } from '@nestjs/core';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import pg from 'pg';
import { parseCheckIn, readEnvelope } from '../../modules/dead_mans_switch_server/checkin/alive-payload.js';
import { quickCheckInQuery } from '../../modules/dead_mans_switch_server/checkin/checkin.repository.js';

const MAX_BODY = 16 * 1024;
const pool = new pg.Pool({
  connectionString: process.env.DATABASE_URL,
  max: Number(process.env.DATABASE_POOL_SIZE ?? 10),
});

@Controller()
class PrototypeController {
  @Get('monitoring/status')
  status() {
    return { status: 1 };
  }

  @Post('dead_mans_switch/alive')
  @HttpCode(200)
  async alive(@Body() body: unknown) {
    const envelope = readEnvelope(body);
    const parsed = parseCheckIn(envelope.params);
    if ('error' in parsed) throw new BadRequestException(parsed.error);
    const { rows } = await pool.query<{ state: string }>(quickCheckInQuery(parsed.checkIn, new Date()));
    if (!rows[0]) throw new NotFoundException();
    const result = { status: 'ok', instance_state: rows[0].state };
    return envelope.form === 'jsonrpc' ? { jsonrpc: '2.0', id: envelope.id, result } : result;
  }
}

@Module({ controllers: [PrototypeController] })
class PrototypeModule {}

async function main(): Promise<void> {
  const adapter = process.env.PROTOTYPE_ADAPTER ?? 'express';
  let app;
  if (adapter === 'fastify') {
    app = await NestFactory.create(PrototypeModule, new FastifyAdapter({ bodyLimit: MAX_BODY }), {
      logger: false,
    });
  } else {
    // Not a dependency (see above): a specifier tsc does not resolve.
    const specifier: string = '@nestjs/platform-express';
    const { ExpressAdapter } = (await import(specifier)) as { ExpressAdapter: new () => AbstractHttpAdapter };
    app = await NestFactory.create(PrototypeModule, new ExpressAdapter(), { logger: false });
  }
  await app.listen(Number(process.argv[2]), '127.0.0.1');
  console.log(`prototype listening (${adapter})`);
  process.on('SIGTERM', () => {
    void app
      .close()
      .then(() => pool.end())
      .then(() => process.exit(0));
  });
}

void main();
