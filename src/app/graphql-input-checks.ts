import type { ApolloServerPlugin } from '@apollo/server';
import type { RequestHandler } from 'express';
import { MaxTokensParserWLexer } from '@escape.tech/graphql-armor-max-tokens';
import { GraphQLError, Source, visit, type DocumentNode } from 'graphql';
import { LIMITS } from './graphql-limits';

/**
 * Refusals raised before execution, on HTTP and on graphql-ws
 * (socket-server). Each is the client's fault: BAD_USER_INPUT, and on HTTP
 * status 400.
 */
const refusal = (message: string) => new GraphQLError(message, { extensions: { code: 'BAD_USER_INPUT', http: { status: 400 } } });

/**
 * Size first (no work at all on a huge document), then tokens, both before
 * anything else parses. Well below the JSON body cap, so variables keep their room.
 */
export function parseLimited(query: string): DocumentNode {
  if (query.length > LIMITS.maxDocumentChars) {
    throw refusal(`The GraphQL document is too large: at most ${LIMITS.maxDocumentChars} characters`);
  }
  try {
    return new MaxTokensParserWLexer(new Source(query), { n: LIMITS.maxTokens.n }).parseDocument();
  } catch (err) {
    throw refusal(err instanceof GraphQLError ? err.message : 'The GraphQL document could not be parsed');
  }
}

function containsNul(value: unknown): boolean {
  if (typeof value === 'string') return value.includes('\u0000');
  if (Array.isArray(value)) return value.some(containsNul);
  if (value && typeof value === 'object') return Object.values(value).some(containsNul);
  return false;
}

/**
 * PostgreSQL text cannot hold U+0000 (the driver fails the whole statement)
 * and no field of this API has a use for it: refused once per operation, in
 * literals and variables alike, instead of in every resolver.
 */
export function checkStorableText(document: DocumentNode, variables: unknown): void {
  let found = containsNul(variables);
  if (!found) {
    visit(document, {
      StringValue(node) {
        if (node.value.includes('\u0000')) found = true;
      },
    });
  }
  if (found) throw refusal('Text must not contain NUL characters (\\u0000)');
}

/**
 * The document's size and token limits on HTTP, in front of Apollo: an error
 * thrown from an Apollo plugin before parsing (graphql-armor's max-tokens
 * plugin does so) is an "unexpected error" to Apollo and answers 500.
 * Apollo parses (and caches) the document again after this; one more parse
 * of a bounded text is the price.
 */
export const documentLimits: RequestHandler = (req, res, next) => {
  const body = req.body as { query?: unknown } | undefined;
  const query = typeof body?.query === 'string' ? body.query : typeof req.query.query === 'string' ? req.query.query : null;
  if (query === null) return next();
  try {
    parseLimited(query);
  } catch (err) {
    res.status(400).json({ errors: [{ message: (err as Error).message, extensions: { code: 'BAD_USER_INPUT' } }] });
    return;
  }
  next();
};

export const inputChecksPlugin: ApolloServerPlugin = {
  async requestDidStart() {
    return {
      async didResolveOperation({ document, request }) {
        checkStorableText(document, request.variables);
      },
    };
  },
};
