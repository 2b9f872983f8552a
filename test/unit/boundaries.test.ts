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

/** The folder of `root` (`mail`, `users`… under src/) a file belongs to; undefined for files at the root itself. */
function folderOf(root: string, path: string): string | undefined {
  const parts = relative(root, path).split('/');
  return parts.length > 1 && !parts[0].startsWith('..') ? parts[0] : undefined;
}

/** `from -> to` between the folders of `root`, each with the files that make it. */
function folderImportGraph(root: string): Map<string, Map<string, string[]>> {
  const graph = new Map<string, Map<string, string[]>>();
  for (const file of sources(root)) {
    const from = folderOf(root, file);
    for (const target of relativeImports(file)) {
      const to = folderOf(root, target);
      if (!from || !to || from === to) continue;
      if (!graph.has(from)) graph.set(from, new Map());
      const edges = graph.get(from)!;
      const files = edges.get(to) ?? [];
      if (!files.includes(relative(PROJECT_ROOT, file)))
        edges.set(to, [...files, relative(PROJECT_ROOT, file)]);
    }
  }
  return graph;
}

/** A cycle of the graph as `a -> b -> … -> a` with the files of each edge, or undefined when it has none. */
function findCycle(graph: Map<string, Map<string, string[]>>): string[] | undefined {
  const done = new Set<string>();
  const path: string[] = [];
  const visit = (folder: string): string[] | undefined => {
    if (path.includes(folder)) return [...path.slice(path.indexOf(folder)), folder];
    if (done.has(folder)) return undefined;
    path.push(folder);
    for (const to of graph.get(folder)?.keys() ?? []) {
      const cycle = visit(to);
      if (cycle) return cycle;
    }
    path.pop();
    done.add(folder);
    return undefined;
  };
  for (const folder of graph.keys()) {
    const cycle = visit(folder);
    if (cycle)
      return cycle
        .slice(1)
        .map((to, i) => `${cycle[i]} -> ${to} (${graph.get(cycle[i])!.get(to)!.join(', ')})`);
  }
  return undefined;
}

/** What other core folders may import from the mail area: its module, its share of the manifest, its services. */
const MAIL_ENTRY_POINTS = [
  'mail.module.ts',
  'mail.manifest.ts',
  'chatter/chatter.service.ts',
  'chatter/thread.ts',
  'chatter/threads.service.ts',
  'notifications/inbox.service.ts',
  'notifications/inbox.dto.ts',
  'notification-dispatcher.ts',
  'email/template-renderer.ts',
  'channels/alert-channel.ts',
  'channels/webhook.channel.ts',
  // The SSRF address rules, shared with the addons' outgoing connections (probes).
  'channels/address-policy.ts',
];

describe('boundaries between core folders', () => {
  it('core folders import each other without a cycle', () => {
    // Shared declarations live in the folder that owns them (the manifest re-exports the extension points) or in
    // common; a folder that needs one from a folder above it gets it through an abstraction (e.g. SessionCookies).
    assert.deepEqual(
      findCycle(folderImportGraph(SRC)),
      undefined,
      'an import closes a cycle between core folders',
    );
  });

  it('other core folders reach the mail area only through its entry points, never its repositories', () => {
    const mail = join(SRC, 'mail');
    const allowed = new Set(MAIL_ENTRY_POINTS.map((file) => join(mail, file.replace(/\.ts$/, '.js'))));
    const offending = sources(SRC)
      .filter((file) => !file.startsWith(mail + '/'))
      .flatMap((file) =>
        relativeImports(file)
          .filter((target) => target.startsWith(mail + '/') && !allowed.has(target))
          .map((target) => `${relative(PROJECT_ROOT, file)} -> ${relative(PROJECT_ROOT, target)}`),
      );
    assert.deepEqual(offending, []);
  });

  it('the mail area is layered: its sub-folders import each other without a cycle, and none its root files', () => {
    const mail = join(SRC, 'mail');
    assert.deepEqual(findCycle(folderImportGraph(mail)), undefined);
    const upward = sources(mail)
      .filter((file) => folderOf(mail, file) !== undefined)
      .flatMap((file) =>
        relativeImports(file)
          .filter((target) => target.startsWith(mail + '/') && folderOf(mail, target) === undefined)
          .map((target) => `${relative(PROJECT_ROOT, file)} -> ${relative(PROJECT_ROOT, target)}`),
      );
    assert.deepEqual(upward, []);
  });
});
