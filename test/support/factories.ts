import { randomBytes } from 'node:crypto';
import type { MailCapture } from './mail-capture';
import type { TestApp } from './test-app';

export const uniqueEmail = (tag = 'user') => `${tag}-${randomBytes(5).toString('hex')}@example.com`;
export const PASSWORD = 'correct horse battery';

export interface SignedInUser {
  id: string;
  email: string;
  accessToken: string;
  refreshToken: string;
}

const AUTH_FIELDS = 'accessToken refreshToken accessTokenExpiresAt user { id email status role subscription trialEndsAt }';

/** Signs a user up the way a person does: register, read the mail, verify. */
export async function signUp(t: TestApp, mail: MailCapture, email = uniqueEmail()): Promise<SignedInUser> {
  const reg = await t.gql('mutation($i: RegisterInput!) { register(input: $i) { id } }', { i: { email, password: PASSWORD } });
  if (reg.errors) throw new Error(JSON.stringify(reg.errors));
  const token = await mail.waitFor(email, /verifyEmail mutation with this token:\s+([A-Za-z0-9_-]{20,})/);
  const res = await t.gql(`mutation($t: String!) { verifyEmail(token: $t) { ${AUTH_FIELDS} } }`, { t: token });
  if (res.errors) throw new Error(JSON.stringify(res.errors));
  const p = res.data!.verifyEmail;
  return { id: p.user.id, email, accessToken: p.accessToken, refreshToken: p.refreshToken };
}

export async function login(t: TestApp, email: string, password = PASSWORD) {
  return t.gql(`mutation($e: String!, $p: String!) { login(email: $e, password: $p) { ${AUTH_FIELDS} } }`, { e: email, p: password });
}

export async function signInAdmin(t: TestApp, email: string, password: string): Promise<SignedInUser> {
  const res = await login(t, email, password);
  if (res.errors) throw new Error(JSON.stringify(res.errors));
  const p = res.data!.login;
  return { id: p.user.id, email, accessToken: p.accessToken, refreshToken: p.refreshToken };
}
