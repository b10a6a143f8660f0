import Decimal from 'decimal.js';
import { GraphQLError, GraphQLScalarType, Kind } from 'graphql';
import { DateTimeISOResolver } from 'graphql-scalars';

const PLAIN_DECIMAL = /^-?\d+(\.\d+)?$/;

/** Renders a decimal string without exponent or trailing zeros ("0.01500000" → "0.015"). */
export function formatDecimal(value: Decimal.Value): string {
  const d = new Decimal(value);
  const fixed = d.toFixed();
  return fixed.includes('.') ? fixed.replace(/\.?0+$/, '') : fixed;
}

function parseDecimal(value: unknown): string {
  if (typeof value !== 'string' || !PLAIN_DECIMAL.test(value.trim())) {
    throw new GraphQLError('Decimal must be a string holding a plain decimal number, e.g. "1234.5"', {
      extensions: { code: 'BAD_USER_INPUT' },
    });
  }
  return formatDecimal(value.trim());
}

/** Money and quantities on the wire: a string, so no value is ever rounded by a JSON float. */
export const DecimalScalar = new GraphQLScalarType({
  name: 'Decimal',
  description: 'A decimal number as a string ("1234.5", "-0.001"), never a float.',
  serialize: (value) => {
    if (value instanceof Decimal || typeof value === 'string' || typeof value === 'number' || typeof value === 'bigint') {
      return formatDecimal(value instanceof Decimal ? value : String(value));
    }
    throw new GraphQLError('Decimal cannot represent this value');
  },
  parseValue: parseDecimal,
  parseLiteral: (ast) => {
    if (ast.kind !== Kind.STRING) {
      throw new GraphQLError('Decimal must be a string literal', { extensions: { code: 'BAD_USER_INPUT' } });
    }
    return parseDecimal(ast.value);
  },
});

/** ISO-8601 UTC timestamps, named as the contract names them. */
export const DateTimeScalar = new GraphQLScalarType({
  ...DateTimeISOResolver.toConfig(),
  name: 'DateTime',
  description: 'An ISO-8601 UTC timestamp.',
});
