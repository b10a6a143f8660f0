import { PositionSide } from '../../entities/enums';
import type { Signal } from '../../entities/signal.entity';
import type { SignalType } from '../types/signal.type';

export function toSignalType(signal: Signal): SignalType {
  return {
    id: signal.id,
    source: signal.source,
    action: signal.action,
    symbol: signal.symbol,
    strength: Number(signal.strength),
    referencePrice: signal.referencePrice,
    votes: signal.votes.map((v) => ({ witness: v.witness, side: v.side ?? PositionSide.FLAT, confidence: v.confidence, reason: v.reason })),
    createdAt: signal.createdAt,
  };
}
