import { HttpStatus, Inject, Injectable } from '@nestjs/common';
import { AppException } from '../../common/app.exception.js';
import { THREAD_DEFINITIONS, type ThreadDefinition } from './thread.js';

/** The thread models that core and the loaded addons declare. */
@Injectable()
export class ThreadRegistry {
  private readonly byModel = new Map<string, ThreadDefinition>();

  constructor(@Inject(THREAD_DEFINITIONS) definitions: ThreadDefinition[]) {
    for (const definition of definitions) {
      if (this.byModel.has(definition.model))
        throw new Error(`Thread model ${definition.model} is declared twice`);
      this.byModel.set(definition.model, definition);
    }
  }

  /** The translation key prefix of a tracked field's values, when it declares one. */
  valueKeys(model: string | null, field: string): string | undefined {
    if (model === null) return undefined;
    const tracked = this.byModel.get(model)?.tracked ?? [];
    return (tracked.find((t) => t.field === field) ?? tracked.find((t) => t.field === '*'))?.values;
  }

  /** The definition, or a 404 that names the model. */
  get(model: string): ThreadDefinition {
    const definition = this.byModel.get(model);
    if (!definition) throw new AppException(HttpStatus.NOT_FOUND, 'mail.errors.unknown_model', { model });
    return definition;
  }
}
