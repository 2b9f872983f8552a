import { EnvironmentService, EXIT_CONFIG, type CliCommand } from '../../src/index.js';

/** `npx vigil env:check [--json] [--lang fr]`: runs every environment check now; exit 0 when none fails, else 78. */
export const envCheckCommand: CliCommand = {
  name: 'env:check',
  description: 'run the environment checks now and print the report (exit 0 when valid, 78 otherwise)',
  options: [
    ['--json', 'print the report as JSON'],
    ['--lang <lang>', 'language of the messages (en, fr, de, nl)'],
  ],
  async run(app, options) {
    const environment = app.get(EnvironmentService, { strict: false });
    const report = await environment.run('cli');
    const lang = typeof options.lang === 'string' ? options.lang : 'en';
    if (options.json) console.log(JSON.stringify(environment.render(report, lang), null, 2));
    else console.log(environment.formatTable(report, lang, process.stdout.isTTY === true));
    return report.ok ? 0 : EXIT_CONFIG;
  },
};
