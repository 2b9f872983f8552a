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
  // Their DNS resolution, the one repository of the area the addons share (probes resolve as channels do).
  'channels/address-resolver.repository.ts',
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

/** Core's tables: those its migrations create. */
function coreTables(): Set<string> {
  const folder = join(SRC, 'database', 'migrations');
  return new Set(
    sources(folder).flatMap((file) =>
      [...readFileSync(file, 'utf8').matchAll(/CREATE TABLE (?:IF NOT EXISTS )?"?(\w+)/g)].map((m) => m[1]),
    ),
  );
}

/** Each place `text` names one of `tables` in SQL, as `KEYWORD table`. */
function tablesNamed(text: string, tables: Set<string>): { keyword: string; table: string }[] {
  return [
    ...text.matchAll(
      /\b(DELETE\s+FROM|INSERT\s+INTO|FROM|JOIN|INTO|UPDATE|TABLE|USING|REFERENCES)\s+"?(\w+)/gi,
    ),
  ]
    .filter((m) => tables.has(m[2]))
    .map((m) => ({ keyword: m[1].toUpperCase().replace(/\s+/g, ' '), table: m[2] }));
}

/**
 * What an addon may still say about core's tables in its SQL, and why. Everything else (the mail_* tables, users,
 * settings…) goes through core's services: ChatterService, NotificationDispatcher, SettingsService, UsersService.
 */
function allowedInAddon(keyword: string, table: string): boolean {
  // A foreign key (an instance's customer, a configuration's responsible user) reads and writes nothing.
  if (keyword === 'REFERENCES') return table === 'partner' || table === 'users';
  // Customers are what addon records are about: their name is read in the same query as the addon's rows
  // (lists, display names). Addons never write them: PartnersService does.
  return table === 'partner' && (keyword === 'FROM' || keyword === 'JOIN');
}

describe("boundaries between addons and core's tables", () => {
  const tables = coreTables();

  it('reads core tables from its migrations and finds them in SQL', () => {
    for (const table of ['mail_notification', 'mail_follower', 'partner', 'users', 'setting'])
      assert.ok(tables.has(table), `${table} is not among core's tables: ${[...tables].join(', ')}`);
    assert.deepEqual(tablesNamed('WITH held AS (DELETE FROM mail_notification n USING x)', tables), [
      { keyword: 'DELETE FROM', table: 'mail_notification' },
    ]);
    assert.deepEqual(
      tablesNamed('SELECT 1 FROM mail_follower f\n JOIN partner p ON p.id = f.partner_id', tables),
      [
        { keyword: 'FROM', table: 'mail_follower' },
        { keyword: 'JOIN', table: 'partner' },
      ],
    );
  });

  it("an addon names core's tables in SQL only as the allow-list says", () => {
    const offending = (existsSync(MODULES) ? readdirSync(MODULES) : []).flatMap((name) =>
      sources(join(MODULES, name))
        // Tests may read core's tables to check what happened (a message posted, an e-mail held back).
        .filter((file) => !relative(MODULES, file).split('/').includes('tests'))
        .flatMap((file) =>
          tablesNamed(readFileSync(file, 'utf8'), tables)
            .filter(({ keyword, table }) => !allowedInAddon(keyword, table))
            .map(({ keyword, table }) => `${relative(PROJECT_ROOT, file)}: ${keyword} ${table}`),
        ),
    );
    assert.deepEqual(offending, []);
  });
});
