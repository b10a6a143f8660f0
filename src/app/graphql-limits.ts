import { ApolloArmor } from '@escape.tech/graphql-armor';
import { costLimitRule } from '@escape.tech/graphql-armor-cost-limit';
import { maxAliasesRule } from '@escape.tech/graphql-armor-max-aliases';
import { maxDepthRule } from '@escape.tech/graphql-armor-max-depth';
import { maxDirectivesRule } from '@escape.tech/graphql-armor-max-directives';
import { NoSchemaIntrospectionCustomRule, specifiedRules, type ValidationRule } from 'graphql';

/**
 * One set of limits for HTTP (Apollo plugins) and for graphql-ws, where
 * Apollo plugins do not run: depth, aliases (login alias-batching), directives,
 * cost and tokens; no introspection and no field suggestions in production.
 */
export const LIMITS = {
  maxDepth: { n: 8 },
  maxAliases: { n: 15 },
  maxDirectives: { n: 20 },
  costLimit: { maxCost: 5000 },
  maxTokens: { n: 1500 },
  /** Characters in one GraphQL document; the JSON body (document and variables) may be 100 kB. */
  maxDocumentChars: 20_000,
} as const;

export function apolloArmor() {
  return new ApolloArmor({
    maxDepth: LIMITS.maxDepth,
    maxAliases: LIMITS.maxAliases,
    maxDirectives: LIMITS.maxDirectives,
    costLimit: LIMITS.costLimit,
    // Applied by inputChecksPlugin (graphql-input-checks.ts) instead: armor's plugin makes Apollo answer 500.
    maxTokens: { enabled: false },
    blockFieldSuggestion: { enabled: true },
  }).protect();
}

export function socketValidationRules(production: boolean): ValidationRule[] {
  return [
    ...specifiedRules,
    maxDepthRule(LIMITS.maxDepth),
    maxAliasesRule(LIMITS.maxAliases),
    maxDirectivesRule(LIMITS.maxDirectives),
    costLimitRule(LIMITS.costLimit),
    ...(production ? [NoSchemaIntrospectionCustomRule] : []),
  ];
}


/** "Did you mean …" leaks the schema once introspection is off. */
export function hideSuggestions(message: string): string {
  return message.replace(/ ?Did you mean .+\?$/, '');
}
