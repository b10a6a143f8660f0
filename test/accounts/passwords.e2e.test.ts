import { codeOf } from '../support/graphql-client';
import { login, PASSWORD, signUp, uniqueEmail } from '../support/factories';
import { MailCapture } from '../support/mail-capture';
import { startTestApp, type TestApp } from '../support/test-app';

const REGISTER = 'mutation($e: String!, $p: String!) { register(input: { email: $e, password: $p }) { id } }';
const CHANGE = 'mutation($c: String!, $n: String!) { changePassword(currentPassword: $c, newPassword: $n) }';

/** The password policy and bcrypt's 72-byte limit, through the API a person uses (the rules themselves: password-policy.test.ts). */
describe('passwords over the API', () => {
  let t: TestApp;
  const mail = new MailCapture();

  const register = async (password: string) => {
    const email = uniqueEmail('pw');
    const res = await t.gql(REGISTER, { e: email, p: password });
    return { email, res };
  };

  beforeAll(async () => {
    t = await startTestApp({ env: { SMTP_URL: await mail.start() } });
  });
  afterAll(async () => {
    await t.stop();
    await mail.stop();
  });

  it('accepts a 64-character passphrase of emoji and CJK (205 bytes) and signs in with it, not with one character changed', async () => {
    const passphrase = '我的密码🔐'.repeat(12) + '安全😀漢';
    expect([...passphrase]).toHaveLength(64);
    expect(Buffer.byteLength(passphrase)).toBeGreaterThan(72);
    const { email, res } = await register(passphrase);
    expect(res.errors).toBeUndefined();
    const signedIn = await login(t, email, passphrase);
    expect(signedIn.errors).toBeUndefined();
    expect(signedIn.data!.login.user.email).toBe(email);
    // The last character, and then the first, one code point off.
    expect(codeOf(await login(t, email, `${passphrase.slice(0, -1)}字`))).toBe('UNAUTHENTICATED');
    expect(codeOf(await login(t, email, `你${passphrase.slice(1)}`))).toBe('UNAUTHENTICATED');
  });

  it('tells apart passwords that differ only after their 72nd byte, ASCII or multi-byte', async () => {
    const ascii = 'seventy-two bytes of a long shared prefix, typed by a careful user.....';
    const cjk = '長い共通の前置きを持つ二つの合言葉のうちの一つ目'; // 24 characters, 72 bytes
    for (const prefix of [ascii.padEnd(72, '.'), cjk]) {
      expect(Buffer.byteLength(prefix)).toBe(72);
      const { email, res } = await register(`${prefix} first ending`);
      expect(res.errors).toBeUndefined();
      expect(codeOf(await login(t, email, `${prefix} other ending`))).toBe('UNAUTHENTICATED');
      expect(codeOf(await login(t, email, prefix))).toBe('UNAUTHENTICATED');
      expect((await login(t, email, `${prefix} first ending`)).errors).toBeUndefined();
    }
  });

  it('refuses a breached or common password at register with BAD_USER_INPUT, creating nothing', async () => {
    for (const common of ['password123', 'Qwerty123', 'iloveyou1']) {
      const { email, res } = await register(common);
      expect(codeOf(res)).toBe('BAD_USER_INPUT');
      expect(res.errors![0].message).toMatch(/common passwords/);
      const rows = await t.app.services.orm.em.fork().getConnection().execute('select count(*)::int as n from users where email = ?', [email]);
      expect(rows[0].n).toBe(0);
    }
  });

  it('refuses a breached or common new password at changePassword with BAD_USER_INPUT, keeping the old one', async () => {
    const user = await signUp(t, mail);
    const res = await t.gql(CHANGE, { c: PASSWORD, n: 'password123' }, user.accessToken);
    expect(codeOf(res)).toBe('BAD_USER_INPUT');
    expect(res.errors![0].message).toMatch(/common passwords/);
    expect(res.errors![0].extensions!.field).toBe('newPassword');
    expect((await login(t, user.email, PASSWORD)).errors).toBeUndefined();
    expect(codeOf(await login(t, user.email, 'password123'))).toBe('UNAUTHENTICATED');
  });
});
