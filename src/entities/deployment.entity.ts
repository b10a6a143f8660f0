import { Check, Entity, PrimaryKey, Property } from '@mikro-orm/core';

/**
 * This deployment's identity, one row created at first start. Every node
 * reaching the same database (through any host name, or a promoted replica)
 * reads the same id, and two deployments differ: the default Redis prefix
 * is derived from it.
 */
@Entity({ tableName: 'deployment' })
@Check({ name: 'deployment_singleton', expression: 'singleton = 1' })
export class Deployment {
  @PrimaryKey({ type: 'smallint', autoincrement: false })
  singleton: number = 1;

  @Property({ type: 'uuid' })
  id!: string;

  @Property({ type: 'timestamptz' })
  createdAt: Date = new Date();
}
