import { Column, CreateDateColumn, Entity, PrimaryColumn, UpdateDateColumn } from 'typeorm';

/** Which addons are installed in this database, and at which version. */
@Entity('addon')
export class InstalledAddon {
  @PrimaryColumn('text')
  name: string;

  @Column('text')
  version: string;

  @CreateDateColumn({ type: 'timestamptz' })
  installedAt: Date;

  @UpdateDateColumn({ type: 'timestamptz' })
  updatedAt: Date;
}
