import Decimal from 'decimal.js';
import { PaperGateway } from '../../src/engine/exchange/paper-gateway';
import { FakeBinance } from '../support/fake-binance';
import { signUp, type SignedInUser } from '../support/factories';
import { codeOf } from '../support/graphql-client';
import { MailCapture } from '../support/mail-capture';
import { startTestApp, type TestApp } from '../support/test-app';
import { createTestDatabase, type TestDatabase } from '../support/test-database';
import { binanceEnv, myConfig, setConfig, SYMBOL, VERIFY_CONFIG } from './exchange-config-kit';

/** The app's own paper venue: its ORM and its price book, as the engine would use them. */
const paperGatewayOf = (t: TestApp, userId: string) =>
  new PaperGateway({ em: t.app.services.orm.em, userId, prices: t.app.services.prices, logger: t.app.services.logger });

describe('PAPER accounts', () => {
  const fake = new FakeBinance();
  const mail = new MailCapture();
  let db: TestDatabase;
  let env: Record<string, string>;
  const apps: TestApp[] = [];
  const start = async () => {
    const t = await startTestApp({ database: db, env });
    apps.push(t);
    return t;
  };

  beforeAll(async () => {
    await fake.start();
    env = { ...binanceEnv(fake, await mail.start()), PAPER_STARTING_BALANCE: '5000' };
    db = await createTestDatabase('paper');
  });
  afterAll(async () => {
    for (const t of apps) await t.stop();
    await db.drop();
    await fake.stop();
    await mail.stop();
  });

  it('trade without a key, and keep their position and balance across a restart', async () => {
    const first = await start();
    const user: SignedInUser = await signUp(first, mail);
    const bystander: SignedInUser = await signUp(first, mail);

    const res = await setConfig(first, user, { exchange: 'PAPER', leverage: 5, maxPositionPct: 0.05 });
    expect(res.errors).toBeUndefined();
    expect(res.data!.setExchangeConfig).toMatchObject({
      exchange: 'PAPER', apiKeyMasked: 'PAPER', testnet: false, leverage: 5, isValid: true, lastVerifyError: null,
      permissions: { canRead: true, canTrade: true, canWithdraw: false },
    });
    expect(fake.requestLog).toHaveLength(0);
    expect((await setConfig(first, bystander, { exchange: 'PAPER', leverage: 1, maxPositionPct: 0.01 })).data!.setExchangeConfig.isValid).toBe(true);

    // Verification opened the simulated account with the configured balance and leverage.
    const gateway = paperGatewayOf(first, user.id);
    first.app.services.prices.set(SYMBOL, '60000');
    const opened = await gateway.getAccount();
    expect(opened.walletBalance.toFixed()).toBe('5000');
    expect((await gateway.getPosition(SYMBOL)).leverage).toBe(5);

    const order = await gateway.placeMarketOrder({
      symbol: SYMBOL, side: 'BUY', quantity: new Decimal('0.1'), clientOrderId: 'paper-restart-1', reduceOnly: false,
    });
    expect(order).toMatchObject({ status: 'FILLED', clientOrderId: 'paper-restart-1' });
    expect(order.avgPrice!.toFixed()).toBe('60000');
    // Taker fee 0.04 % of 6000.
    expect((await gateway.getAccount()).walletBalance.toFixed()).toBe('4997.6');
    await gateway.close();
    await first.stop();

    // A new process on the same database: nothing in memory survives, the account does.
    const second = await start();
    second.app.services.prices.set(SYMBOL, '61000');
    const after = paperGatewayOf(second, user.id);
    const position = await after.getPosition(SYMBOL);
    expect(position.positionAmt.toFixed()).toBe('0.1');
    expect(position.entryPrice.toFixed()).toBe('60000');
    expect(position.unrealizedPnl.toFixed()).toBe('100');
    const account = await after.getAccount();
    expect(account.walletBalance.toFixed()).toBe('4997.6');
    expect(account.equity.toFixed()).toBe('5097.6');

    // The config survived too, and verifying again neither resets the balance nor needs a key.
    expect(await myConfig(second, user)).toMatchObject({ exchange: 'PAPER', isValid: true, leverage: 5 });
    const verified = await second.gql(VERIFY_CONFIG, {}, user.accessToken);
    expect(verified.data!.verifyExchangeConfig).toMatchObject({ ok: true, reason: null });
    expect((await after.getAccount()).walletBalance.toFixed()).toBe('4997.6');

    // The same client id after the restart is the same order, not a second fill.
    const replay = await after.placeMarketOrder({
      symbol: SYMBOL, side: 'BUY', quantity: new Decimal('0.1'), clientOrderId: 'paper-restart-1', reduceOnly: false,
    });
    expect(replay.exchangeOrderId).toBe(order.exchangeOrderId);
    expect((await after.getPosition(SYMBOL)).positionAmt.toFixed()).toBe('0.1');

    // Closing realizes the profit: 4997.6 + 100 - 2.44 fee.
    await after.placeMarketOrder({ symbol: SYMBOL, side: 'SELL', quantity: new Decimal('0.1'), clientOrderId: 'paper-restart-2', reduceOnly: true });
    expect((await after.getPosition(SYMBOL)).positionAmt.toFixed()).toBe('0');
    expect((await after.getAccount()).walletBalance.toFixed()).toBe('5095.16');
    const trades = await after.getUserTrades(SYMBOL, 0);
    expect(trades.map((f) => [f.side, f.quantity.toFixed(), f.realizedPnl.toFixed()])).toEqual([['BUY', '0.1', '0'], ['SELL', '0.1', '100']]);

    // The other paper user's account is untouched by all of this.
    const theirs = paperGatewayOf(second, bystander.id);
    expect((await theirs.getAccount()).walletBalance.toFixed()).toBe('5000');
    expect((await theirs.getPosition(SYMBOL)).positionAmt.toFixed()).toBe('0');
    await after.close();
    expect(fake.requestLog).toHaveLength(0);
  });

  it('switching a PAPER account to Binance needs a key', async () => {
    const t = apps[apps.length - 1];
    const user = await signUp(t, mail);
    expect((await setConfig(t, user, { exchange: 'PAPER', leverage: 2, maxPositionPct: 0.02 })).data!.setExchangeConfig.isValid).toBe(true);
    const before = await myConfig(t, user);
    const res = await setConfig(t, user, { exchange: 'BINANCE' });
    expect(codeOf(res)).toBe('BAD_USER_INPUT');
    expect(res.errors![0].extensions!.field).toBe('apiKey');
    expect(await myConfig(t, user)).toEqual(before);
  });
});
