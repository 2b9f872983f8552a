import { Column, Entity, PrimaryColumn, UpdateDateColumn } from 'typeorm';

/** A system parameter (Odoo's `ir.config_parameter`). */
@Entity('setting')
export class Setting {
  @PrimaryColumn('text')
  key: string;

  @Column('text')
  value: string;

  @UpdateDateColumn({ type: 'timestamptz' })
  updatedAt: Date;
}
