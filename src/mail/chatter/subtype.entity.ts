import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';

/** What a message is about; followers choose the subtypes they receive (Odoo's mail.message.subtype). */
@Entity('mail_subtype')
export class Subtype {
  @PrimaryGeneratedColumn()
  id: number;

  /** External id, e.g. `mail.mt_comment`. */
  @Column('text', { unique: true })
  key: string;

  /** Translation key of its name. */
  @Column('text')
  name: string;

  /** New followers receive it unless they choose otherwise. */
  @Column('boolean', { default: false })
  isDefault: boolean;

  /** The thread model it is about (`dead_mans_switch.instance`); null: any model. */
  @Column('text', { nullable: true })
  model: string | null;

  /** Only users receive it. */
  @Column('boolean', { default: false })
  internal: boolean;
}
