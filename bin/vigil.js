#!/usr/bin/env node
// `npx vigil <command>`: runs the compiled CLI, building it first on a fresh checkout.
import { execSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const entry = new URL('../dist/src/cli/main.js', import.meta.url);
if (!existsSync(fileURLToPath(entry)))
  execSync('npm run build', { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] });
await import(entry.href);
