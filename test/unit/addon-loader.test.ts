import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Controller, Post, RequestMethod, type MiddlewareConsumer, type NestModule } from '@nestjs/common';
import { Entity, PrimaryColumn } from 'typeorm';
import {
  AddonError,
  addonModule,
  addonModules,
  resolveAddons,
  validateManifest,
  type LoadedAddon,
} from '../../src/addons/addon-loader.js';
import { VIGIL_VERSION } from '../../src/environment/version.js';
import type { AddonManifest } from '../../src/addons/manifest.js';

class NoTask {
  run(): Promise<void> {
    return Promise.resolve();
  }
}

@Entity('shared_table')
class First {
  @PrimaryColumn() id: number;
}

@Entity('shared_table')
class Second {
  @PrimaryColumn() id: number;
}

function addon(
  name: string,
  depends: string[] = [],
  entities: AddonManifest['entities'] = [],
): [string, LoadedAddon] {
  const manifest: AddonManifest = {
    name,
    version: '1.0.0',
    summary: name,
    depends,
    entities,
    migrations: [],
  };
  return [name, { manifest, dir: `/addons/${name}` }];
}

describe('addon resolution', () => {
  it('orders addons after their dependencies and loads only what is requested plus its dependencies', () => {
    const available = new Map([
      addon('web', ['base_ui']),
      addon('base_ui'),
      addon('reports', ['web', 'base_ui']),
      addon('unrelated'),
    ]);
    const all = resolveAddons(available).map((a) => a.manifest.name);
    assert.ok(all.indexOf('base_ui') < all.indexOf('web'));
    assert.ok(all.indexOf('web') < all.indexOf('reports'));
    assert.deepEqual(
      resolveAddons(available, ['reports']).map((a) => a.manifest.name),
      ['base_ui', 'web', 'reports'],
    );
  });

  it('names the addon and the missing dependency', () => {
    const available = new Map([addon('a', ['b']), addon('b', ['ghost'])]);
    assert.throws(
      () => resolveAddons(available),
      (error: Error) => {
        assert.ok(error instanceof AddonError);
        assert.match(error.message, /addon "b" depends on "ghost"/);
        return true;
      },
    );
  });

  it('shows the whole cycle', () => {
    const available = new Map([addon('a', ['b']), addon('b', ['c']), addon('c', ['a'])]);
    assert.throws(() => resolveAddons(available), /Addon dependency cycle: a -> b -> c -> a/);
  });

  it('refuses two addons declaring the same table, and an addon reusing a core table', () => {
    assert.throws(
      () => resolveAddons(new Map([addon('one', [], [First]), addon('two', [], [Second])])),
      /Addons "one" and "two" both declare the table shared_table/,
    );
    assert.throws(
      () =>
        resolveAddons(
          new Map([addon('one', [], [First])]),
          undefined,
          addon('base', [], [Second])[1].manifest,
        ),
      /Addons "base" and "one"/,
    );
  });
});

describe('manifest validation', () => {
  const [, { manifest }] = addon('versioned');

  it('accepts an addon made for this Vigil and refuses one made for another, naming both versions', () => {
    validateManifest({ ...manifest, vigil: `^${VIGIL_VERSION}` });
    validateManifest(manifest);
    assert.throws(
      () => validateManifest({ ...manifest, vigil: '^99.0.0' }),
      (error: Error) =>
        error instanceof AddonError &&
        error.message === `Addon "versioned" works with Vigil ^99.0.0; this is Vigil ${VIGIL_VERSION}`,
    );
    assert.throws(
      () => validateManifest({ ...manifest, vigil: 'soon' }),
      /vigil "soon" is not a semver range/,
    );
  });

  it('refuses a task declaration that is not valid, naming the addon and the task', () => {
    assert.throws(
      () =>
        validateManifest({
          ...manifest,
          tasks: [{ id: 'versioned.x', cron: 'nope', provider: NoTask }],
        }),
      /Addon "versioned": task versioned\.x/,
    );
  });
});

describe('the addon module', () => {
  class Statistics {
    collect(): Promise<Record<string, number>> {
      return Promise.resolve({});
    }
  }
  class Service {}
  class Guard {
    use(): void {}
  }

  @Controller('hooks')
  class HooksController {
    @Post('in')
    receive() {}
  }

  it('is built from the manifest: its controllers, its providers and its task and statistics providers, each once', () => {
    const [, loaded] = addon('builder_two');
    loaded.manifest.controllers = [HooksController];
    loaded.manifest.providers = [Service, NoTask];
    loaded.manifest.tasks = [
      { id: 'builder.a', everySeconds: 60, provider: NoTask },
      { id: 'builder.b', cron: '0 3 * * *', provider: NoTask },
    ];
    loaded.manifest.statistics = [Statistics];
    const { module, ...built } = addonModule(loaded);
    assert.equal(module.name, 'BuilderTwoModule');
    assert.deepEqual(built, {
      imports: [],
      controllers: [HooksController],
      providers: [Service, NoTask, Statistics],
      // To the addons that depend on this one.
      exports: [Service, NoTask, Statistics],
    });
  });

  it("applies the manifest's middleware to its routes", () => {
    const [, loaded] = addon('guarded');
    loaded.manifest.middleware = [{ use: Guard, routes: [{ method: 'POST', path: '/hooks/in' }] }];
    const applied: unknown[] = [];
    const consumer = {
      apply: (...middleware: unknown[]) => ({
        forRoutes: (...routes: unknown[]) => {
          applied.push({ middleware, routes });
          return consumer;
        },
      }),
    } as unknown as MiddlewareConsumer;
    const { module } = addonModule(loaded);
    new (module as new () => NestModule)().configure(consumer);
    assert.deepEqual(applied, [
      { middleware: [Guard], routes: [{ path: 'hooks/in', method: RequestMethod.POST }] },
    ]);
  });

  it('gives an addon the modules of the addons it depends on, one module per addon', () => {
    const modules = addonModules([addon('lower')[1], addon('upper', ['lower'])[1]]);
    assert.equal(modules.length, 2);
    assert.deepEqual(modules[1].imports, [modules[0]]);
    assert.notEqual(modules[0].module, modules[1].module);
  });

  it('refuses a public endpoint that none of its controllers serves', () => {
    const [, { manifest }] = addon('hooks');
    manifest.controllers = [HooksController];
    validateManifest({
      ...manifest,
      publicEndpoints: [{ method: 'POST', path: '/hooks/in', bodyLimit: 1024 }],
    });
    validateManifest({ ...manifest, publicEndpoints: [{ method: 'POST', path: '/HOOKS/in/' }] });
    assert.throws(
      () => validateManifest({ ...manifest, publicEndpoints: [{ method: 'GET', path: '/hooks/in' }] }),
      /Addon "hooks": public endpoint GET \/hooks\/in is not a route of its controllers/,
    );
    assert.throws(
      () => validateManifest({ ...manifest, publicEndpoints: [{ method: 'POST', path: '/hooks/out' }] }),
      /public endpoint POST \/hooks\/out/,
    );
  });
});
