/**
 * REDIS_PREFIX's default: derived from the deployment's identity row, so two
 * deployments sharing one Redis differ without configuration while every node
 * of one deployment (same database, whatever host name it uses) agrees.
 */
export function defaultRedisPrefix(deploymentId: string): string {
  return `btc-saas:${deploymentId.replace(/-/g, '').slice(0, 12)}`;
}
