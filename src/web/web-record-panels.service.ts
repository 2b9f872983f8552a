import { Inject, Injectable } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import type { WebRecordPanel } from '../addons/manifest.js';
import type { RequestContext } from '../common/request-context.js';

export const WEB_RECORD_PANELS = Symbol('WEB_RECORD_PANELS');

/** A panel ready to draw: the partial and the data its loader returned (its context; the page's stays at `@root`). */
export interface LoadedRecordPanel {
  template: string;
  data: Record<string, unknown>;
}

/**
 * The panels that addons add to other addons' record pages (`web.panels` of their manifests). The page that shows a
 * record asks for its panels and draws each one's partial, without knowing the addons that contribute them.
 */
@Injectable()
export class WebRecordPanels {
  constructor(
    @Inject(WEB_RECORD_PANELS) private readonly panels: WebRecordPanel[],
    private readonly moduleRef: ModuleRef,
  ) {}

  /** The panels of the page of record `id` of `model`, in their order; a loader that returns nothing adds none. */
  async load(ctx: RequestContext, model: string, id: number): Promise<LoadedRecordPanel[]> {
    const loaded = await Promise.all(
      this.panels
        .filter((panel) => panel.model === model)
        .map(async (panel) => {
          const data = await this.moduleRef.get(panel.load, { strict: false }).load(ctx, id);
          return data ? [{ template: panel.template, data }] : [];
        }),
    );
    return loaded.flat();
  }
}
