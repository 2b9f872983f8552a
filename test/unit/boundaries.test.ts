import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve, dirname } from 'node:path';
import { describe, it } from 'node:test';
import { PROJECT_ROOT } from '../../src/paths.js';

function sources(folder: string, into: string[] = []): string[] {
  if (!existsSync(folder)) return into;
  for (const name of readdirSync(folder)) {
    const path = join(folder, name);
    if (statSync(path).isDirectory()) sources(path, into);
    else if (name.endsWith('.ts') && !name.endsWith('.d.ts')) into.push(path);
  }
  return into;
}

function relativeImports(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(/(?:from|import)\s*\(?\s*'(\.{1,2}\/[^']+)'/g)].map((m) =>
    resolve(dirname(file), m[1]),
  );
}

const MODULES = join(PROJECT_ROOT, 'modules');
const SRC = join(PROJECT_ROOT, 'src');

describe('boundaries between core and addons', () => {
  it('core never imports an addon', () => {
    const offending = sources(SRC).flatMap((file) =>
      relativeImports(file)
        .filter((target) => target.startsWith(MODULES))
        .map((target) => `${relative(PROJECT_ROOT, file)} -> ${relative(PROJECT_ROOT, target)}`),
    );
    assert.deepEqual(offending, []);
  });

  it('an addon imports core only through src/index.ts and other addons only when it depends on them', () => {
    const offending: string[] = [];
    for (const name of existsSync(MODULES) ? readdirSync(MODULES) : []) {
      const folder = join(MODULES, name);
      if (!existsSync(join(folder, 'manifest.ts'))) continue;
      const manifestText = readFileSync(join(folder, 'manifest.ts'), 'utf8');
      const depends = /depends:\s*\[([^\]]*)\]/.exec(manifestText)?.[1] ?? '';
      for (const file of sources(folder)) {
        for (const target of relativeImports(file)) {
          if (target.startsWith(SRC) && target !== join(SRC, 'index.js')) {
            offending.push(
              `${relative(PROJECT_ROOT, file)} imports core internals ${relative(PROJECT_ROOT, target)}`,
            );
          }
          if (target.startsWith(MODULES) && !target.startsWith(folder + '/')) {
            const other = relative(MODULES, target).split('/')[0];
            if (!depends.includes(`'${other}'`)) {
              offending.push(
                `${relative(PROJECT_ROOT, file)} imports addon ${other} without depending on it`,
              );
            }
          }
        }
      }
    }
    assert.deepEqual(offending, []);
  });
});
