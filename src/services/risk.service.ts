import type { RiskMonitor } from '../engine/risk/risk-monitor';
import { Role } from '../entities/enums';
import { OWNER_FILTER, WITHOUT_OWNER } from '../entities/owner-filter';
import { RiskEvent } from '../entities/risk-event.entity';
import { User } from '../entities/user.entity';
import { assertAdmin } from './access';
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

  /** Admin: another user's state (the admin console's user detail). */
  async stateOf(scope: SignedInScope, userId: string) {
    assertAdmin(scope);
    const em = scope.em.fork();
    em.setFilterParams(OWNER_FILTER, { userId });
    const { state, limits } = await this.monitor.stateOf(em, userId);
    return toRiskStateType(state, limits);
  }

  /** Admin: another user's locks and lifts, newest first. */
  async eventsOf(scope: SignedInScope, userId: string, first: number): Promise<RiskEvent[]> {
    assertAdmin(scope);
    return scope.em.find(RiskEvent, { user: userId }, { ...WITHOUT_OWNER, orderBy: { createdAt: 'desc', id: 'desc' }, limit: first });
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
