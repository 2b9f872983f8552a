import { Injectable } from '@nestjs/common';

/** A field another addon adds to every instance the API returns (e.g. `probes`, their summary). */
export interface InstanceField {
  /** The field's name in the instance's JSON. */
  name: string;
  /** Its value for each of these instances (one query for a whole page); an id left out gets undefined. */
  load(ids: number[]): Promise<Map<number, unknown>>;
}

/**
 * The fields that addons depending on this one add to instances: they `add` theirs when their module starts, and
 * the instances' API returns them, without this addon knowing those addons.
 */
@Injectable()
export class InstanceFields {
  private readonly fields: InstanceField[] = [];

  add(field: InstanceField): void {
    this.fields.push(field);
  }

  /** Every added field of each instance, by instance id. */
  async load(ids: number[]): Promise<Map<number, Record<string, unknown>>> {
    const values = await Promise.all(this.fields.map((field) => field.load(ids)));
    return new Map(
      ids.map((id) => [
        id,
        Object.fromEntries(this.fields.map((field, i) => [field.name, values[i].get(id)])),
      ]),
    );
  }
}
