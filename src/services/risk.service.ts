import type { RiskMonitor } from '../engine/risk/risk-monitor';
import { Role } from '../entities/enums';
import { User } from '../entities/user.entity';
import { forbidden, notFound } from '../errors/app-error';
import { toRiskStateType } from '../schema/mappers/risk.mapper';
import { isUuid } from './ids';
import type { SignedInScope } from './scope';

/** The API side of each user's risk state: what they see, and what an admin may lift. The engine judges and writes. */
export class RiskService {
  constructor(private readonly monitor: RiskMonitor) {}

  async view(scope: SignedInScope) {
    const { state, limits } = await this.monitor.stateOf(scope.em, scope.actor.id);
    return toRiskStateType(state, limits);
  }

  /** Admin: lifts any lock and restarts the figure that locked (see RiskMonitor.unlock); audited. */
  async unlock(scope: SignedInScope, userId: string, reason: string) {
    if (scope.actor.role !== Role.ADMIN) throw forbidden('This needs an administrator');
    if (!isUuid(userId)) throw notFound('User');
    const user = await scope.em.findOne(User, { id: userId });
    if (!user) throw notFound('User');
    const { state, limits } = await this.monitor.unlock(userId, reason, { actorId: scope.actor.id, ip: scope.ip });
    return toRiskStateType(state, limits);
  }
}
