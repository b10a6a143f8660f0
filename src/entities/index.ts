import { AccountMovement } from './account-movement.entity';
import { AuditLog } from './audit-log.entity';
import { AuthLock } from './auth-lock.entity';
import { BillingClosing } from './billing-closing.entity';
import { BalanceSnapshot } from './balance-snapshot.entity';
import { Deployment } from './deployment.entity';
import { EmailToken } from './email-token.entity';
import { ExecutionReportRecord } from './execution-report.entity';
import { Invoice } from './invoice.entity';
import { JobRun } from './job-run.entity';
import { LedgerCursor } from './ledger-cursor.entity';
import { JournalEntry } from './journal-entry.entity';
import { Order } from './order.entity';
import { PaperAccount } from './paper-account.entity';
import { PaperFill } from './paper-fill.entity';
import { PlanChange } from './plan-change.entity';
import { Position } from './position.entity';
import { ProfitDeferral } from './profit-deferral.entity';
import { RiskEvent } from './risk-event.entity';
import { Session } from './session.entity';
import { Signal } from './signal.entity';
import { Trade } from './trade.entity';
import { User } from './user.entity';
import { UserExchangeConfig } from './user-exchange-config.entity';
import { UserExecution } from './user-execution.entity';
import { UserKnownIp } from './user-known-ip.entity';
import { UserProfit } from './user-profit.entity';
import { UserRiskState } from './user-risk-state.entity';

export {
  AccountMovement, AuditLog, BalanceSnapshot, Deployment, EmailToken, ExecutionReportRecord, Invoice, JobRun, Order, PaperAccount, PaperFill,
  Position, RiskEvent, Session, Signal, Trade, User, UserExchangeConfig, UserExecution, UserProfit, UserRiskState,
  UserKnownIp, PlanChange, ProfitDeferral, BillingClosing, LedgerCursor, AuthLock, JournalEntry,
};

/** Listed explicitly: MikroORM's folder discovery does not see .ts files under @swc/jest. */
export const ENTITIES = [
  User, Session, EmailToken, UserExchangeConfig, UserRiskState, UserProfit, Signal, Order, Trade, Position,
  RiskEvent, UserExecution, ExecutionReportRecord, BalanceSnapshot, Invoice, AuditLog, PaperAccount, PaperFill, JobRun,
  AccountMovement, UserKnownIp, Deployment, PlanChange, ProfitDeferral, BillingClosing, LedgerCursor, AuthLock, JournalEntry,
];
export * from './enums';
