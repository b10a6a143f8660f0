import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { errors as joseErrors, jwtVerify, SignJWT } from 'jose';
import { Role } from '../entities/enums';
import { unauthenticated } from '../errors/app-error';

export const ACCESS_TOKEN_TTL_MS = 24 * 60 * 60 * 1000;
export const REFRESH_TOKEN_TTL_MS = 30 * 24 * 60 * 60 * 1000;
const ISSUER = 'btc-saas';
const AUDIENCE = 'btc-saas-api';
const ACCESS_TYP = 'at+jwt';

export interface AccessClaims {
  userId: string;
  role: Role;
  sessionId: string;
  tokenVersion: number;
  jti: string;
  expiresAt: Date;
}

/** SHA-256 hex of an opaque token: what the database stores instead of the token. */
export const hashToken = (token: string) => createHash('sha256').update(token).digest('hex');

/** 256 bits from the CSPRNG, URL-safe. */
export const newOpaqueToken = () => randomBytes(32).toString('base64url');

export class TokenService {
  constructor(private readonly secret: Uint8Array) {}

  async signAccess(input: { userId: string; role: Role; sessionId: string; tokenVersion: number }, now = new Date()) {
    const expiresAt = new Date(now.getTime() + ACCESS_TOKEN_TTL_MS);
    const token = await new SignJWT({ role: input.role, sid: input.sessionId, tv: input.tokenVersion })
      .setProtectedHeader({ alg: 'HS256', typ: ACCESS_TYP })
      .setSubject(input.userId)
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setJti(randomUUID())
      .setIssuedAt(Math.floor(now.getTime() / 1000))
      .setExpirationTime(Math.floor(expiresAt.getTime() / 1000))
      .sign(this.secret);
    return { token, expiresAt };
  }

  /** Verifies signature (HS256 only), type, issuer, audience and expiry; any failure is UNAUTHENTICATED. */
  async verifyAccess(token: string): Promise<AccessClaims> {
    try {
      const { payload } = await jwtVerify(token, this.secret, {
        algorithms: ['HS256'],
        issuer: ISSUER,
        audience: AUDIENCE,
        typ: ACCESS_TYP,
        requiredClaims: ['exp', 'iat', 'sub', 'jti'],
        clockTolerance: 5,
      });
      const role = payload.role;
      if (typeof payload.sid !== 'string' || typeof payload.tv !== 'number' || (role !== Role.USER && role !== Role.ADMIN)) {
        throw unauthenticated('Invalid access token');
      }
      return {
        userId: payload.sub as string,
        role,
        sessionId: payload.sid,
        tokenVersion: payload.tv,
        jti: payload.jti as string,
        expiresAt: new Date((payload.exp as number) * 1000),
      };
    } catch (err) {
      if (err instanceof joseErrors.JWTExpired) throw unauthenticated('Access token expired');
      if (err instanceof joseErrors.JOSEError) throw unauthenticated('Invalid access token');
      throw err;
    }
  }
}
