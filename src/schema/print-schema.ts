import { printSchema } from 'graphql';
import { buildAppSchema } from './build-schema';

/** `npm run --silent schema:print`: the server's SDL, no database needed. */
process.stdout.write(`${printSchema(buildAppSchema())}\n`);
