import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Inject, Injectable } from '@nestjs/common';
import Handlebars from 'handlebars';
import { I18nService, type TranslationArgs } from '../../i18n/i18n.service.js';

/** A folder of handlebars templates and the namespace its names live in (`mail`, or an addon's name). */
export interface TemplateFolder {
  namespace: string;
  dir: string;
}

export const TEMPLATE_FOLDERS = Symbol('TEMPLATE_FOLDERS');

/** `<name>.<lang>.hbs`: a language variant of `<name>.hbs`. */
const VARIANT = /^(.+)\.([a-z]{2})\.hbs$/;

/**
 * E-mail templates: `<namespace>/<name>` with optional per-language variants, partials from each folder's
 * `partials/` (`{{> mail/tracking}}`), a `{{t "key" arg=value}}` helper in the rendering language, and core's
 * `mail/layout` around every e-mail.
 */
@Injectable()
export class TemplateRenderer {
  private readonly hbs = Handlebars.create();
  private readonly templates = new Map<string, Handlebars.TemplateDelegate>();

  constructor(
    @Inject(TEMPLATE_FOLDERS) folders: TemplateFolder[],
    private readonly i18n: I18nService,
  ) {
    this.hbs.registerHelper('t', (key: unknown, options: Handlebars.HelperOptions) => {
      const lang = (options.data as { lang?: string }).lang;
      return this.i18n.t(String(key), lang, options.hash as TranslationArgs);
    });
    this.hbs.registerHelper('nl2br', (text: unknown) => {
      const escaped = this.hbs.escapeExpression(typeof text === 'string' ? text : '');
      return new this.hbs.SafeString(escaped.replace(/\r?\n/g, '<br>\n'));
    });
    for (const folder of folders) this.load(folder);
  }

  private load({ namespace, dir }: TemplateFolder): void {
    if (!existsSync(dir)) return;
    const partials = join(dir, 'partials');
    if (existsSync(partials)) {
      for (const file of readdirSync(partials).filter((f) => f.endsWith('.hbs'))) {
        this.hbs.registerPartial(
          `${namespace}/${file.slice(0, -4)}`,
          readFileSync(join(partials, file), 'utf8'),
        );
      }
    }
    for (const file of readdirSync(dir).filter((f) => f.endsWith('.hbs'))) {
      const variant = VARIANT.exec(file);
      const name = variant ? `${namespace}/${variant[1]}.${variant[2]}` : `${namespace}/${file.slice(0, -4)}`;
      this.templates.set(name, this.hbs.compile(readFileSync(join(dir, file), 'utf8'), { strict: false }));
    }
  }

  /** Renders `<namespace>/<name>` in a language, preferring its `<name>.<lang>.hbs` variant. */
  render(name: string, lang: string, context: object): string {
    const template = this.templates.get(`${name}.${lang}`) ?? this.templates.get(name);
    if (!template) throw new Error(`No e-mail template ${name}`);
    return template({ ...context, lang }, { data: { lang } });
  }

  /** A whole e-mail: the template inside core's layout, and its plain-text alternative. */
  renderEmail(
    name: string,
    lang: string,
    context: { subject: string; [key: string]: unknown },
  ): { html: string; text: string } {
    const content = this.render(name, lang, context);
    const html = this.render('mail/layout', lang, { ...context, content: new this.hbs.SafeString(content) });
    return { html, text: htmlToText(content) };
  }
}

/** The text part: the content's markup flattened, entities decoded. */
// `(?<![ \t])`: a blank run is matched from its first character only; without it a long run that ends without a
// newline was rescanned from each of its characters (quadratic). Tags stop at the next `<` for the same reason: a
// long run of `<` without `>` was rescanned to its end from each `<`.
export function htmlToText(html: string): string {
  return html
    .replace(/<br\s*\/?>\n?/gi, '\n')
    .replace(/<\/(p|div|li|tr|h\d)>/gi, '\n')
    .replace(/<li[^<>]*>/gi, '- ')
    .replace(/<[^<>]+>/g, '')
    .replace(/&#x([0-9a-f]+);/gi, (_, hex: string) => String.fromCodePoint(parseInt(hex, 16)))
    .replace(/&#(\d+);/g, (_, dec: string) => String.fromCodePoint(Number(dec)))
    .replace(/&quot;/g, '"')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&')
    .replace(/(?<![ \t])[ \t]+\n/g, '\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
}
