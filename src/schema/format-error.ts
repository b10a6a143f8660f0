import { randomUUID } from 'node:crypto';
import type { GraphQLFormattedError } from 'graphql';
import { GraphQLError } from 'graphql';
import type { Logger } from 'pino';
import { ArgumentValidationError } from 'type-graphql';
import { AppError, ErrorCode } from '../errors/app-error';

const KNOWN_CODES = new Set<string>(Object.values(ErrorCode));

/** Codes GraphQL servers raise for a malformed document or variables: the client's input is at fault. */
const INPUT_CODES = new Set(['GRAPHQL_PARSE_FAILED', 'GRAPHQL_VALIDATION_FAILED', 'BAD_USER_INPUT', 'BAD_REQUEST', 'PERSISTED_QUERY_NOT_FOUND', 'PERSISTED_QUERY_NOT_SUPPORTED', 'OPERATION_RESOLUTION_FAILURE']);

function validationMessage(err: ArgumentValidationError): string {
  const first = err.extensions.validationErrors?.[0] as { constraints?: Record<string, string> } | undefined;
  const constraint = first?.constraints ? Object.values(first.constraints)[0] : undefined;
  return constraint ?? 'Invalid input';
}

/**
 * The one place errors become what a client sees. Domain errors keep their
 * message and code; input errors become BAD_USER_INPUT; everything else is
 * masked as INTERNAL_SERVER_ERROR with an id that is in the log, so no SQL,
 * stack or driver text ever reaches a client.
 */
export function createErrorFormatter(logger: Logger) {
  return (formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError => {
    const original = error instanceof GraphQLError ? (error.originalError ?? error) : error;
    const base = { message: formatted.message, locations: formatted.locations, path: formatted.path };

    if (original instanceof AppError) {
      return { ...base, message: original.message, extensions: { ...original.extensions, code: original.code } };
    }
    if (original instanceof ArgumentValidationError) {
      return { ...base, message: validationMessage(original), extensions: { code: ErrorCode.BAD_USER_INPUT } };
    }
    const code = formatted.extensions?.code;
    if (typeof code === 'string' && INPUT_CODES.has(code) && !(original instanceof Error && !(original instanceof GraphQLError))) {
      return { ...base, extensions: { code: ErrorCode.BAD_USER_INPUT } };
    }
    if (original instanceof GraphQLError && !original.originalError && typeof code !== 'string') {
      // graphql-js validation/coercion errors built without a code (e.g. over graphql-ws).
      return { ...base, extensions: { code: ErrorCode.BAD_USER_INPUT } };
    }
    if (typeof code === 'string' && KNOWN_CODES.has(code) && code !== ErrorCode.INTERNAL_SERVER_ERROR && original instanceof GraphQLError) {
      return { ...base, extensions: { code } };
    }
    const errorId = randomUUID();
    logger.error({ errorId, err: original, path: formatted.path }, 'unhandled error in GraphQL operation');
    return {
      message: `Internal server error (id ${errorId})`,
      locations: formatted.locations,
      path: formatted.path,
      extensions: { code: ErrorCode.INTERNAL_SERVER_ERROR, errorId },
    };
  };
}
