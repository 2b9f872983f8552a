import { Column, Entity, PrimaryColumn, PrimaryGeneratedColumn } from 'typeorm';

/** A partner following a record. */
@Entity('mail_follower')
export class Follower {
  @PrimaryGeneratedColumn()
  id: number;

  @Column('text')
  model: string;

  @Column('integer')
  resId: number;

  @Column('integer')
  partnerId: number;
}

/** A subtype a follower receives. */
@Entity('mail_follower_subtype')
export class FollowerSubtype {
  @PrimaryColumn('integer')
  followerId: number;

  @PrimaryColumn('integer')
  subtypeId: number;
}
