import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';

/** A customer, a contact of a customer, or the person behind a user. */
@Entity('partner')
export class Partner {
  @PrimaryGeneratedColumn()
  id: number;

  @Column('text')
  name: string;

  @Column('text', { nullable: true })
  email: string | null;

  @Column('text', { nullable: true })
  phone: string | null;

  @Column('boolean', { default: false })
  isCompany: boolean;

  @Column('boolean', { default: false })
  customer: boolean;

  /** The company this contact belongs to. */
  @Column('integer', { nullable: true })
  parentId: number | null;

  /** The account manager. */
  @Column('integer', { nullable: true })
  userId: number | null;

  @Column('text', { default: 'en' })
  lang: string;

  @Column('boolean', { default: true })
  active: boolean;

  @CreateDateColumn({ type: 'timestamptz' })
  createdAt: Date;

  @UpdateDateColumn({ type: 'timestamptz' })
  updatedAt: Date;
}
