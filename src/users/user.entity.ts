import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';

import type { Role } from '../common/request-context.js';

// The roles belong to the request context (common), which every folder reads; users re-exports them.
export { ROLES, type Role } from '../common/request-context.js';

@Entity('users')
export class User {
  @PrimaryGeneratedColumn()
  id: number;

  /** Stored lower-case: logins are case-insensitive. */
  @Column('text', { unique: true })
  email: string;

  @Column('text', { select: false })
  passwordHash: string;

  @Column('text', { array: true, default: () => "'{viewer}'" })
  roles: Role[];

  @Column('integer')
  partnerId: number;

  @Column('boolean', { default: true })
  active: boolean;

  @Column('timestamptz', { nullable: true })
  lastActiveAt: Date | null;

  /** Carried by access tokens and web sessions; bumping it revokes them all (sign-out, password change). */
  @Column('integer', { default: 0 })
  tokenVersion: number;

  /** IANA time zone the user reads dates in; null: the browser's. */
  @Column('text', { nullable: true })
  timeZone: string | null;

  /** Signed in with a password they did not choose (the generated first one): the web UI asks to change it. */
  @Column('boolean', { default: false })
  passwordChangeRequired: boolean;

  @CreateDateColumn({ type: 'timestamptz' })
  createdAt: Date;

  @UpdateDateColumn({ type: 'timestamptz' })
  updatedAt: Date;
}
