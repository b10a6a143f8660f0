import { ObjectType } from 'type-graphql';

/**
 * The signed-in user and everything that belongs to them. Every field is
 * resolved by ViewerResolver from the context user; the object itself only
 * carries the user id.
 */
@ObjectType('Viewer')
export class ViewerType {
  constructor(readonly userId: string) {}
}
