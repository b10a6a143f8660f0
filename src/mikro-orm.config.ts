// Used by the MikroORM CLI only (`npm run migration:create`); the server builds its options in src/db.
import { ormOptions } from './db/orm-options';

export default ormOptions(process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/migrations_scratch');
