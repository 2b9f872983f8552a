import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve, dirname } from 'node:path';
import { describe, it } from 'node:test';
import ts from 'typescript';
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
  // Links per recipient (an incident's "Acknowledge") that addons register.
  'notifications/message-actions.ts',
  'email/template-renderer.ts',
  'channels/alert-channel.ts',
  'channels/webhook.channel.ts',
  // The SSRF address rules, shared with the addons' outgoing connections (probes).
  'channels/address-policy.ts',
  // Their DNS resolution, the one repository of the area the addons share (probes resolve as channels do).
  'channels/address-resolver.repository.ts',
  // The outgoing HTTP client they share (channels, probes), and what it takes and gives.
  'channels/outbound-http.repository.ts',
  'channels/outbound-http.ts',
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

/** The calls that reach the database directly: SQL, TypeORM's repositories, and transactions. */
const IO_CALLS = new Set(['query', 'getRepository', 'transaction']);

/**
 * Files besides `*.repository.ts` that may make those calls, and why. Migrations are SQL by nature and tests read
 * tables to check what happened; they are skipped as folders.
 */
const IO_FILES: Record<string, string> = {
  // Core's unit of work: the one place a transaction is opened; services hand its manager to repositories.
  'src/database/database.ts': 'the unit of work',
  // Starts the embedded server and creates its database, before any repository exists.
  'src/database/embedded-database.ts': 'the embedded server',
};

/** The declared type of each `this.<field>` of a file's classes (constructor parameter properties and fields). */
function fieldTypes(source: ts.SourceFile): Map<string, string> {
  const types = new Map<string, string>();
  const visit = (node: ts.Node) => {
    if (
      (ts.isParameter(node) && node.modifiers?.length && ts.isIdentifier(node.name)) ||
      (ts.isPropertyDeclaration(node) && ts.isIdentifier(node.name))
    ) {
      if (node.type) types.set(node.name.text, node.type.getText(source));
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return types;
}

/**
 * Each `.query(`, `getRepository(` and `transaction(` of a file, as `file:line call`, except on a repository
 * (`this.x` declared as a `…Repository`) and the transactions of core's unit of work (`this.x` declared as `Database`).
 */
function directIoOf(source: ts.SourceFile): string[] {
  const types = fieldTypes(source);
  const found: string[] = [];
  const visit = (node: ts.Node) => {
    if (ts.isCallExpression(node)) {
      const callee = node.expression;
      const name = ts.isPropertyAccessExpression(callee)
        ? callee.name.text
        : ts.isIdentifier(callee)
          ? callee.text
          : undefined;
      if (name && IO_CALLS.has(name)) {
        const receiver = ts.isPropertyAccessExpression(callee) ? callee.expression : undefined;
        const field =
          receiver &&
          ts.isPropertyAccessExpression(receiver) &&
          receiver.expression.kind === ts.SyntaxKind.ThisKeyword
            ? types.get(receiver.name.text)
            : undefined;
        const allowed =
          field !== undefined &&
          (field.endsWith('Repository') || (field === 'Database' && name === 'transaction'));
        if (!allowed) {
          const line = source.getLineAndCharacterOfPosition(node.getStart(source)).line + 1;
          found.push(`${line} ${callee.getText(source).replace(/\s+/g, '')}(`);
        }
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

function directIo(file: string): string[] {
  const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
  return directIoOf(source).map((call) => `${relative(PROJECT_ROOT, file)}:${call}`);
}

describe('only repositories do I/O', () => {
  it('finds direct database calls, and lets repositories and the unit of work through', () => {
    const example = ts.createSourceFile(
      'example.service.ts',
      [
        'class S {',
        '  constructor(private readonly database: Database, private readonly repo: ThingsRepository, private m: EntityManager) {}',
        '  a() { return this.database.transaction(async (manager) => manager.query("SELECT 1")); }',
        '  b() { return this.repo.transaction(() => this.m.getRepository(Thing).find()); }',
        '  c() { return this.database.query("SELECT 1"); }',
        '}',
      ].join('\n'),
      ts.ScriptTarget.Latest,
      true,
    );
    const calls = directIoOf(example);
    assert.deepEqual(calls, ['3 manager.query(', '4 this.m.getRepository(', '5 this.database.query(']);
  });

  it('no service, controller, task or thread definition queries the database itself: repositories do', () => {
    const offending = [...sources(SRC), ...sources(MODULES)]
      .filter((file) => !file.endsWith('.repository.ts'))
      .filter(
        (file) =>
          !relative(PROJECT_ROOT, file)
            .split('/')
            .some((part) => part === 'migrations' || part === 'tests'),
      )
      .filter((file) => !(relative(PROJECT_ROOT, file) in IO_FILES))
      .flatMap(directIo);
    assert.deepEqual(offending, []);
  });
});

/** Core repositories an addon may use, and why: none reads or writes a table. */
const SHARED_REPOSITORIES: Record<string, string> = {
  // DNS: probes and backups resolve their outgoing hosts as alert channels do, then check every address.
  'mail/channels/address-resolver.repository.js': 'AddressResolver',
  // HTTP: probes (and any addon) speak to the outside through the client channels use, address policy included.
  'mail/channels/outbound-http.repository.js': 'OutboundHttp',
};

/** Each name `src/index.ts` exports, with the file it comes from (relative to src/, as imported: `.js`). */
function indexExports(text: string): { name: string; from: string }[] {
  const source = ts.createSourceFile('index.ts', text, ts.ScriptTarget.Latest, true);
  return source.statements.flatMap((statement) =>
    ts.isExportDeclaration(statement) &&
    statement.moduleSpecifier &&
    ts.isStringLiteral(statement.moduleSpecifier) &&
    statement.exportClause &&
    ts.isNamedExports(statement.exportClause)
      ? statement.exportClause.elements.map((element) => ({
          name: element.name.text,
          from: (statement.moduleSpecifier as ts.StringLiteral).text.replace(/^\.\//, ''),
        }))
      : [],
  );
}

/** What of core's entry point is a repository or an entity of core's tables. */
function dataExports(text: string): string[] {
  return indexExports(text)
    .filter(
      ({ name, from }) =>
        from.endsWith('.entity.js') ||
        (from.endsWith('.repository.js') && SHARED_REPOSITORIES[from] !== name),
    )
    .map(({ name, from }) => `${name} from ${from}`);
}

/** The classes of core's entity files. */
function coreEntities(): Set<string> {
  return new Set(
    sources(SRC)
      .filter((file) => file.endsWith('.entity.ts'))
      .flatMap((file) => [...readFileSync(file, 'utf8').matchAll(/export class (\w+)/g)].map((m) => m[1])),
  );
}

describe('addons reach core through its services', () => {
  it('finds a repository or an entity among the exports of an entry point', () => {
    const text = [
      "export { UsersService } from './users/users.service.js';",
      "export { UsersRepository } from './users/users.repository.js';",
      "export { User, type Role } from './users/user.entity.js';",
      "export { AddressResolver } from './mail/channels/address-resolver.repository.js';",
    ].join('\n');
    assert.deepEqual(dataExports(text), [
      'UsersRepository from users/users.repository.js',
      'User from users/user.entity.js',
      'Role from users/user.entity.js',
    ]);
  });

  it('src/index.ts exports no repository and no entity of core', () => {
    assert.deepEqual(dataExports(readFileSync(join(SRC, 'index.ts'), 'utf8')), []);
  });

  it('no addon imports an entity of core', () => {
    const entities = coreEntities();
    assert.ok(entities.has('Partner') && entities.has('User'), [...entities].join(', '));
    const offending = sources(MODULES).flatMap((file) =>
      [
        ...readFileSync(file, 'utf8').matchAll(
          /import\s+(?:type\s+)?\{([^}]*)\}\s+from\s+'[^']*src\/index\.js'/g,
        ),
      ]
        .flatMap((m) =>
          m[1].split(',').map(
            (name) =>
              name
                .trim()
                .replace(/^type\s+/, '')
                .split(/\s+as\s+/)[0],
          ),
        )
        .filter((name) => entities.has(name))
        .map((name) => `${relative(PROJECT_ROOT, file)} imports ${name}`),
    );
    assert.deepEqual(offending, []);
  });
});

describe('the manifest builds the addon module', () => {
  const addonFiles = () =>
    sources(MODULES).filter((file) => !relative(MODULES, file).split('/').includes('tests'));

  it('no addon has a hand-written Nest module: its manifest declares controllers, providers and middleware', () => {
    const offending = addonFiles()
      .filter((file) => file.endsWith('.module.ts') || /@Module\s*\(/.test(readFileSync(file, 'utf8')))
      .map((file) => relative(PROJECT_ROOT, file));
    assert.deepEqual(offending, []);
  });

  it("an addon's unauthenticated routes are declared in its manifest, never with @Public()", () => {
    const offending = addonFiles()
      .filter((file) => /@Public\s*\(/.test(readFileSync(file, 'utf8')))
      .map((file) => relative(PROJECT_ROOT, file));
    assert.deepEqual(offending, []);
  });
});
