import { Exchange } from '../entities/enums';
import type { UserExchangeConfig } from '../entities/user-exchange-config.entity';
import type { CredentialCipher, GatewayOpener } from '../services/exchange-config.service';
import type { BinanceGatewayFactory } from './exchange/binance-gateway-factory';
import type { ExchangeGateway } from './exchange/exchange-gateway';

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
    if (!config.apiKeyEnc || !config.apiSecretEnc) throw new Error('Binance config without stored credentials');
    return this.deps.binance.create({
      apiKey: this.deps.cipher.decrypt(config.apiKeyEnc, userId),
      apiSecret: this.deps.cipher.decrypt(config.apiSecretEnc, userId),
      testnet: config.testnet,
    });
  }
}
