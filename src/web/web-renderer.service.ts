import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Inject, Injectable } from '@nestjs/common';
import Handlebars from 'handlebars';
import { I18nService, type TranslationArgs } from '../i18n/i18n.service.js';
import { PROJECT_ROOT } from '../paths.js';
import { sparklineSvg } from './sparkline.js';
import type { WebFormState } from './web-form-state.js';

/** A folder of page templates and the namespace its names live in (`web` for core, an addon's name). */
export interface WebTemplateFolder {
  namespace: string;
  dir: string;
}

export const WEB_TEMPLATE_FOLDERS = Symbol('WEB_TEMPLATE_FOLDERS');
export const CORE_WEB_TEMPLATES: WebTemplateFolder = {
  namespace: 'web',
  dir: join(PROJECT_ROOT, 'src', 'web', 'templates'),
};

/** What every template can read through `@data`: the reader's language, time zone and the current time. */
export interface RenderData {
  lang: string;
  timeZone: string;
  now: Date;
}

const asDate = (value: unknown): Date | undefined => {
  if (value instanceof Date) return value;
  if (typeof value === 'string' && value) {
    const date = new Date(value);
    return Number.isNaN(date.getTime()) ? undefined : date;
  }
  return undefined;
};

/** The id of a field's error messages (`aria-describedby`). */
const fieldErrorId = (form: unknown, field: unknown) =>
  `${typeof form === 'string' && form ? form : 'form'}-${String(field)}-error`.replace(
    /[^A-Za-z0-9_-]/g,
    '-',
  );

const RELATIVE_UNITS: [Intl.RelativeTimeFormatUnit, number][] = [
  ['day', 86_400],
  ['hour', 3600],
  ['minute', 60],
  ['second', 1],
];

/**
 * The web UI's handlebars: core's layout, partials and pages (`web/<name>`), each addon's pages and partials
 * (`<addon>/<name>`), helpers for translations, dates in the reader's time zone, numbers and sparklines.
 */
@Injectable()
export class WebRenderer {
  private readonly hbs = Handlebars.create();
  private readonly templates = new Map<string, Handlebars.TemplateDelegate>();

  constructor(
    @Inject(WEB_TEMPLATE_FOLDERS) folders: WebTemplateFolder[],
    private readonly i18n: I18nService,
  ) {
    const data = (options: Handlebars.HelperOptions) => options.data as RenderData;
    this.hbs.registerHelper('t', (key: unknown, options: Handlebars.HelperOptions) =>
      this.i18n.t(String(key), data(options).lang, options.hash as TranslationArgs),
    );
    this.hbs.registerHelper('eq', (a: unknown, b: unknown) => a === b || String(a) === String(b));
    this.hbs.registerHelper('or', (...args: unknown[]) => args.slice(0, -1).some(Boolean));
    this.hbs.registerHelper('and', (...args: unknown[]) => args.slice(0, -1).every(Boolean));
    this.hbs.registerHelper('concat', (...args: unknown[]) => args.slice(0, -1).map(String).join(''));
    this.hbs.registerHelper('includes', (list: unknown, value: unknown) =>
      // A form's checkbox group comes back as one string when one box was checked.
      Array.isArray(list)
        ? list.map(String).includes(String(value))
        : typeof list === 'string' && list === String(value),
    );
    this.hbs.registerHelper('dateTime', (value: unknown, options: Handlebars.HelperOptions) => {
      const date = asDate(value);
      if (!date) return '';
      const { lang, timeZone } = data(options);
      return new Intl.DateTimeFormat(lang, { dateStyle: 'medium', timeStyle: 'medium', timeZone }).format(
        date,
      );
    });
    this.hbs.registerHelper('isoTime', (value: unknown) => asDate(value)?.toISOString() ?? '');
    this.hbs.registerHelper('relativeTime', (value: unknown, options: Handlebars.HelperOptions) => {
      const date = asDate(value);
      if (!date) return '';
      const { lang, now } = data(options);
      const seconds = Math.round((date.getTime() - now.getTime()) / 1000);
      const [unit, size] = RELATIVE_UNITS.find(([, s]) => Math.abs(seconds) >= s) ?? ['second', 1];
      return new Intl.RelativeTimeFormat(lang, { numeric: 'auto' }).format(Math.round(seconds / size), unit);
    });
    this.hbs.registerHelper('number', (value: unknown, options: Handlebars.HelperOptions) => {
      if (typeof value !== 'number' || !Number.isFinite(value)) return '–';
      const digits = typeof options.hash.digits === 'number' ? options.hash.digits : 1;
      return new Intl.NumberFormat(data(options).lang, { maximumFractionDigits: digits }).format(value);
    });
    this.hbs.registerHelper('sparkline', (values: unknown, options: Handlebars.HelperOptions) => {
      const points = Array.isArray(values) ? values.map((v) => (typeof v === 'number' ? v : null)) : [];
      const label = typeof options.hash.label === 'string' ? options.hash.label : '';
      return new this.hbs.SafeString(sparklineSvg(points, label, this.hbs.escapeExpression.bind(this.hbs)));
    });
    // Data for the browser's scripts, in a <script type="application/json"> block: `<` escaped so that no text
    // can close the element.
    this.hbs.registerHelper(
      'json',
      (value: unknown) => new this.hbs.SafeString(JSON.stringify(value ?? null).replace(/</g, '\\u003c')),
    );
    // Forms shown again after a refusal (WebFormState in the root context as `form`): `{{fieldValue "form" "name"
    // default}}` is what was typed, else the default; `{{fieldAttrs "form" "name"}}` marks the field invalid and
    // ties it to its messages (`{{> web/field-error form="form" field="name"}}`, id `<form>-<name>-error`).
    const refused = (options: Handlebars.HelperOptions, form: unknown) => {
      const state = (options.data as { root?: { form?: WebFormState } }).root?.form;
      return state && state.id === (typeof form === 'string' ? form : '') ? state : undefined;
    };
    this.hbs.registerHelper('fieldValue', (form: unknown, field: unknown, ...rest: unknown[]) => {
      const options = rest.pop() as Handlebars.HelperOptions;
      const state = refused(options, form);
      const typed = state?.values[String(field)];
      return state && typed !== undefined ? typed : rest[0];
    });
    this.hbs.registerHelper(
      'fieldErrors',
      (form: unknown, field: unknown, options: Handlebars.HelperOptions) => {
        return refused(options, form)?.errors[String(field)] ?? [];
      },
    );
    this.hbs.registerHelper(
      'fieldAttrs',
      (form: unknown, field: unknown, options: Handlebars.HelperOptions) => {
        const errors = refused(options, form)?.errors[String(field)];
        if (!errors?.length) return '';
        const id = this.hbs.escapeExpression(fieldErrorId(form, field));
        return new this.hbs.SafeString(`aria-invalid="true" aria-describedby="${id}"`);
      },
    );
    this.hbs.registerHelper('fieldErrorId', fieldErrorId);
    this.hbs.registerHelper('formRefused', (form: unknown, options: Handlebars.HelperOptions) =>
      refused(options, form),
    );
    for (const folder of folders) this.load(folder);
  }

  private load({ namespace, dir }: WebTemplateFolder): void {
    if (!existsSync(dir)) return;
    const read = (sub: string, register: (name: string, text: string) => void) => {
      const folder = join(dir, sub);
      if (!existsSync(folder)) return;
      for (const file of readdirSync(folder).filter((f) => f.endsWith('.hbs')))
        register(`${namespace}/${file.slice(0, -4)}`, readFileSync(join(folder, file), 'utf8'));
    };
    read('partials', (name, text) => this.hbs.registerPartial(name, text));
    const compile = (name: string, text: string) =>
      this.templates.set(name, this.hbs.compile(text, { strict: false }));
    read('layouts', (name, text) => compile(`${name}`, text));
    read('pages', compile);
  }

  has(name: string): boolean {
    return this.templates.has(name);
  }

  /** Renders the page `<namespace>/<name>`, alone (`layout: false`, for htmx fragments) or inside `web/layout`. */
  render(name: string, context: Record<string, unknown>, data: RenderData, layout = true): string {
    const template = this.templates.get(name);
    if (!template) throw new Error(`No web template ${name}`);
    const content = template(context, { data });
    if (!layout) return content;
    return this.templates.get('web/layout')!(
      { ...context, content: new this.hbs.SafeString(content) },
      { data },
    );
  }
}
