import { Exchange } from '../../entities/enums';
import type { UserExchangeConfig } from '../../entities/user-exchange-config.entity';
import { CredentialsUnreadableError, type CredentialCipher } from '../ports';
import type { BinanceGatewayFactory } from './binance-gateway-factory';
import type { ExchangeGateway } from './exchange-gateway';

/** Builds the gateway for a stored config; the decrypted secret lives only inside it. */
export interface GatewayOpener {
  open(config: UserExchangeConfig, userId: string): Promise<ExchangeGateway>;
}

/**
 * Turns a stored config into a live gateway. The secret is decrypted here and
 * handed straight to the gateway that signs with it; nothing else keeps it.
 */
export class ConfigGatewayOpener implements GatewayOpener {
  constructor(
    private readonly deps: {
      cipher: CredentialCipher;
      binance: BinanceGatewayFactory;
      paper: (userId: string) => ExchangeGateway;
    },
  ) {}

  async open(config: UserExchangeConfig, userId: string): Promise<ExchangeGateway> {
    if (config.exchange === Exchange.PAPER) return this.deps.paper(userId);
    // Also what a caller that forgot to load the lazy ciphertext columns gets: fail closed, typed.
    if (!config.apiKeyEnc || !config.apiSecretEnc) throw new CredentialsUnreadableError('Binance config has no stored credentials');
    return this.deps.binance.create({
      apiKey: this.deps.cipher.decrypt(config.apiKeyEnc, userId),
      apiSecret: this.deps.cipher.decrypt(config.apiSecretEnc, userId),
      testnet: config.testnet,
    });
  }
}
