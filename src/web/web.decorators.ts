import {
  applyDecorators,
  Controller,
  Get,
  Header,
  Post,
  Redirect,
  SetMetadata,
  UseFilters,
} from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { WEB_KEY } from '../common/auth.decorators.js';
import { WebExceptionFilter } from './web-exception.filter.js';

/**
 * A controller of the web UI (core's or an addon's): signed in by the session cookie, forms checked for their
 * CSRF token, errors shown as pages, out of the OpenAPI document.
 */
export const WebController = (path: string) =>
  applyDecorators(
    Controller(path),
    SetMetadata(WEB_KEY, true),
    UseFilters(WebExceptionFilter),
    ApiExcludeController(),
  );

/** A page: GET answering HTML. */
export const WebPage = (path?: string) =>
  applyDecorators(
    Get(path),
    Header('Content-Type', 'text/html; charset=utf-8'),
    Header('Cache-Control', 'no-store'),
  );

/**
 * A form's target: POST that answers with a redirect (303, post/redirect/get) to the URL the handler returns,
 * `{ url }`; htmx follows it and swaps the part of the page it asked for.
 */
export const WebForm = (path?: string) => applyDecorators(Post(path), Redirect('/web', 303));

/** What a form handler returns: where the browser goes next. */
export interface WebRedirect {
  url: string;
}
