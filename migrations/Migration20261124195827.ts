import { Migration } from '@mikro-orm/migrations';

export class Migration20261124195827 extends Migration {

  override async up(): Promise<void> {
    this.addSql(`drop index "signals_strategy_candle_unique";`);

    this.addSql(`create unique index "signals_strategy_candle_action_unique" on "signals" ("symbol", "interval", "candle_time", "action") where "source" = 'STRATEGY';`);

  }

  override async down(): Promise<void> {
    this.addSql(`drop index "signals_strategy_candle_action_unique";`);

    this.addSql(`CREATE UNIQUE INDEX signals_strategy_candle_unique ON public.signals USING btree (symbol, "interval", candle_time) WHERE (source = 'STRATEGY'::text);`);

  }

}
