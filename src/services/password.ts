import bcrypt from 'bcrypt';
import { badInput } from '../errors/app-error';

const BCRYPT_COST = 12;
/** bcrypt reads only the first 72 bytes: longer passwords are refused, never silently truncated. */
const MAX_PASSWORD_BYTES = 72;
const MIN_PASSWORD_CHARS = 8;

export function assertPasswordPolicy(password: string, field = 'password'): void {
  if ([...password].length < MIN_PASSWORD_CHARS) {
    throw badInput(`${field} must be at least ${MIN_PASSWORD_CHARS} characters`, field);
  }
  if (Buffer.byteLength(password, 'utf8') > MAX_PASSWORD_BYTES) {
    throw badInput(`${field} must be at most ${MAX_PASSWORD_BYTES} bytes`, field);
  }
}

/** The async API runs on libuv's pool, so a cost-12 hash never blocks the event loop. */
export const hashPassword = (password: string) => bcrypt.hash(password, BCRYPT_COST);

export const verifyPassword = (password: string, hash: string) => bcrypt.compare(password, hash);

// A real hash of a random value: comparing against it costs what a real check costs,
// so an unknown email answers as slowly as a wrong password.
const DUMMY_HASH = '$2b$12$.5yvNJdITFsQiXA3a5VB6u37BIJRepJPc0D/iCoEAOxmG.YrlCGxa';
export const burnPasswordCheck = (password: string) => bcrypt.compare(password, DUMMY_HASH).then(() => false);
