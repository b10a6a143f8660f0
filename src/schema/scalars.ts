import Decimal from 'decimal.js';
import { GraphQLError, GraphQLScalarType, Kind } from 'graphql';
import { DateTimeISOResolver } from 'graphql-scalars';
import { isStorableDate } from '../services/storable-date';

const PLAIN_DECIMAL = /^-?\d+(\.\d+)?$/;

/** Renders a decimal string without exponent or trailing zeros ("0.01500000" → "0.015"). */
export function formatDecimal(value: Decimal.Value): string {
  const d = new Decimal(value);
  const fixed = d.toFixed();
  return fixed.includes('.') ? fixed.replace(/\.?0+$/, '') : fixed;
}

/** Far more digits than numeric(28,10) holds: longer input is refused before any arithmetic on it. */
const MAX_DECIMAL_CHARS = 64;

function parseDecimal(value: unknown): string {
  if (typeof value !== 'string' || value.length > MAX_DECIMAL_CHARS || !PLAIN_DECIMAL.test(value.trim())) {
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

const iso = DateTimeISOResolver.toConfig();

function inRange(value: unknown): Date {
  if (!(value instanceof Date) || !isStorableDate(value)) {
    throw new GraphQLError('DateTime must be between 0001-01-01 and 9999-12-31', { extensions: { code: 'BAD_USER_INPUT' } });
  }
  return value;
}

/** ISO-8601 UTC timestamps, named as the contract names them; year 0000 and beyond 9999 are refused, not sent to the database. */
export const DateTimeScalar = new GraphQLScalarType({
  ...iso,
  name: 'DateTime',
  description: 'An ISO-8601 UTC timestamp.',
  parseValue: (value) => inRange(iso.parseValue!(value)),
  parseLiteral: (ast, variables) => inRange(iso.parseLiteral!(ast, variables)),
});
