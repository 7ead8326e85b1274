/**
 * Sign-in and sessions. A token is a JWT (HS256 only, `kid` required) whose `jti` names a
 * server-side session: logging out, suspending a user or revoking sessions ends it at once.
 * The role comes from the database on every request, so a role change applies immediately.
 *
 * Every request is authenticated, so its cost is kept to what the checks need: the HMAC key is
 * a KeyObject made once per signing secret (hmacKey), and the session and its user are read in
 * one statement, only the columns the checks use (liveSession).
 */
import bcrypt from 'bcryptjs';
import { createSecretKey, randomUUID, type KeyObject } from 'node:crypto';
import { Router, type Request, type RequestHandler } from 'express';
import { parse as parseCookie } from 'cookie';
import jwt from 'jsonwebtoken';
import { z } from 'zod';
import { JWT_SIGNING } from '../keys/keyring';
import { ErrorCode, type Role } from '../workflows/vocabulary';
import type { ApiDeps } from './deps';
import { DomainError } from '../platform/errors';
import { parse } from './errors';
import { isDatabaseUnavailable } from '../platform/db';

export interface AuthUser {
  id: string;
  role: Role;
  sessionId: string;
}

declare module 'express-serve-static-core' {
  interface Request {
    user?: AuthUser;
  }
}

export const loginBody = z.object({ email: z.string().email().max(320), password: z.string().min(1).max(200) });
const tokenClaims = z.object({ sub: z.string().uuid(), jti: z.string().uuid(), scope: z.string().optional() });
/**
 * A token limited to one part of the API. The codec sign-in mints one for `/codec` only: that
 * token lives in a browser cookie, so it must not also be an admin's bearer token for the rest.
 */
export type TokenScope = 'codec';
// Compared against when the email is unknown, so a wrong email costs as long as a wrong password:
// a bcrypt hash of cost 10, as hashPassword makes (src/access/passwords.ts). Written out rather
// than hashed at load, which cost every start of the API a tenth of a second of CPU.
const DUMMY_HASH = '$2b$10$JYqAVIq4cO.42sghPCn/JOkgaTxr0KJ8gI8vPfom..ZWEUXUhNAxS';

// HMAC keys by kid and secret: the active JWT key and one rotated out within its grace at a time,
// so a few entries hold every key in use; the oldest goes first beyond that.
const HMAC_KEYS_KEPT = 8;
const hmacKeys = new Map<string, KeyObject>();

/**
 * The JWT signing secret of `kid` as a KeyObject, made once. Given a string, jsonwebtoken first
 * tries it as a PEM public key (crypto.createPublicKey, which throws for an HMAC secret: about
 * 4 ms of CPU a request) and only then makes the secret key; given the KeyObject it goes straight
 * to the HMAC, with the same bytes (the secret's UTF-8, as jsonwebtoken's own fallback makes it).
 * Keyed by the secret's value as well as its kid, so a kid never answers another secret's key.
 * Whether a kid is still accepted is the keyring's to say on every request, never this cache's:
 * an entry only saves making the key again.
 */
export function hmacKey(kid: string, secret: string): KeyObject {
  const id = `${kid}\u0000${secret}`;
  let key = hmacKeys.get(id);
  if (!key) {
    key = createSecretKey(Buffer.from(secret, 'utf8'));
    if (hmacKeys.size >= HMAC_KEYS_KEPT) hmacKeys.delete(hmacKeys.keys().next().value!);
    hmacKeys.set(id, key);
  }
  return key;
}

/** What authenticate checks of a token's session, read with its user in one statement. */
interface LiveSession {
  userId: string;
  expiresAt: Date;
  revokedAt: Date | null;
  role: Role;
  status: 'ACTIVE' | 'SUSPENDED';
}

async function liveSession(prisma: ApiDeps['prisma'], sessionId: string): Promise<LiveSession | undefined> {
  const [session] = await prisma.$queryRaw<LiveSession[]>`
    SELECT s.user_id AS "userId", s.expires_at AS "expiresAt", s.revoked_at AS "revokedAt",
      u.role::text AS role, u.status::text AS status
    FROM sessions s JOIN users u ON u.id = s.user_id
    WHERE s.id = ${sessionId}::uuid`;
  return session;
}

export function addressOf(req: Request): string {
  return req.ip ?? req.socket.remoteAddress ?? 'unknown';
}

/**
 * Checks a password and opens a session: the token is a JWT naming it. Attempts are limited
 * per account from one address, per address, and (with a higher ceiling) per account from
 * everywhere: someone failing from other addresses cannot lock the owner out, short of that
 * ceiling. A suspended account is refused.
 */
export async function signIn(
  deps: Pick<ApiDeps, 'prisma' | 'config' | 'keyring'>,
  given: string,
  password: string,
  ip: string,
  role?: Role,
  scope?: TokenScope,
) {
  const { prisma, config } = deps;
  const email = given.toLowerCase();
  // The attempt is counted before the password is checked (one account at a time), and forgotten
  // only if it succeeds: a burst of parallel guesses gets exactly as many tries as a sequence.
  const since = new Date(Date.now() - config.LOGIN_WINDOW);
  const attempt = await prisma.$transaction(async (tx) => {
    await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtext(${`login:${email}`}))`;
    const [byAccountAndAddress, byAddress, byAccount] = await Promise.all([
      tx.loginFailure.count({ where: { email, ip, createdAt: { gte: since } } }),
      tx.loginFailure.count({ where: { ip, createdAt: { gte: since } } }),
      tx.loginFailure.count({ where: { email, createdAt: { gte: since } } }),
    ]);
    if (
      byAccountAndAddress >= config.LOGIN_MAX_FAILURES_PER_ACCOUNT_AND_ADDRESS ||
      byAddress >= config.LOGIN_MAX_FAILURES_PER_ADDRESS ||
      byAccount >= config.LOGIN_MAX_FAILURES_PER_ACCOUNT
    )
      return undefined;
    return tx.loginFailure.create({ data: { id: randomUUID(), email, ip } });
  });
  if (!attempt)
    throw new DomainError(ErrorCode.TOO_MANY_ATTEMPTS, 'Too many failed sign-ins; try again later', {
      retryAfterSeconds: Math.ceil(config.LOGIN_WINDOW / 1000),
    });
  const user = await prisma.user.findUnique({ where: { email } });
  const valid = await bcrypt.compare(password, user?.passwordHash ?? DUMMY_HASH);
  if (!user || !valid) throw new DomainError(ErrorCode.INVALID_CREDENTIALS, 'Email or password is wrong');
  await prisma.loginFailure.delete({ where: { id: attempt.id } });
  if (user.status === 'SUSPENDED') throw new DomainError(ErrorCode.ACCOUNT_SUSPENDED, 'This account is suspended');
  if (role && user.role !== role)
    throw new DomainError(ErrorCode.FORBIDDEN, `Only ${role.toLowerCase()}s may sign in here`);

  const session = await prisma.session.create({
    data: { id: randomUUID(), userId: user.id, expiresAt: new Date(Date.now() + config.JWT_TTL), ip },
  });
  const key = await deps.keyring.active(JWT_SIGNING);
  const token = jwt.sign({ role: user.role, ...(scope ? { scope } : {}) }, hmacKey(key.kid, key.secret), {
    algorithm: 'HS256',
    keyid: key.kid,
    subject: user.id,
    jwtid: session.id,
    expiresIn: Math.floor(config.JWT_TTL / 1000),
  });
  return { token, user: { id: user.id, email: user.email, name: user.name, role: user.role } };
}

export function authRouter(deps: ApiDeps): Router {
  const { prisma } = deps;
  const router = Router();

  router.post('/api/auth/login', async (req, res) => {
    const { email, password } = parse(loginBody, req.body);
    res.json(await signIn(deps, email, password, addressOf(req)));
  });

  router.post('/api/auth/logout', authenticate(deps), async (req, res) => {
    await prisma.session.updateMany({
      where: { id: currentUser(req).sessionId, revokedAt: null },
      data: { revokedAt: new Date(), revokeReason: 'logout' },
    });
    res.status(204).end();
  });

  return router;
}

/**
 * Requires a valid bearer token of a live session of an active user; sets `req.user`. A scoped
 * token (the codec's) is accepted only where `options.scope` names its scope.
 */
export function authenticate(
  { prisma, keyring }: Pick<ApiDeps, 'prisma' | 'keyring'>,
  options: { cookie?: string; scope?: TokenScope } = {},
): RequestHandler {
  return async (req, _res, next) => {
    const [scheme, bearer] = (req.header('authorization') ?? '').split(' ');
    // A cookie, where allowed (the codec endpoint, called by the Web UI with the browser's cookies).
    const token = scheme === 'Bearer' && bearer ? bearer : options.cookie ? cookieOf(req, options.cookie) : undefined;
    if (!token) throw new DomainError(ErrorCode.UNAUTHENTICATED, 'A bearer token is required');
    const invalid = new DomainError(ErrorCode.UNAUTHENTICATED, 'The token is invalid, expired or revoked');
    let kid: string | undefined;
    try {
      kid = jwt.decode(token, { complete: true })?.header.kid;
    } catch {
      throw invalid;
    }
    // The key comes from the kid: the active key, or a rotated-out one still within its grace.
    // Reading it can fail with the database (503, the client retries); only a missing key is 401.
    const secret = kid ? await keyring.accepted(JWT_SIGNING, kid) : undefined;
    if (!kid || !secret) throw invalid;
    let claims: z.infer<typeof tokenClaims>;
    try {
      claims = tokenClaims.parse(jwt.verify(token, hmacKey(kid, secret), { algorithms: ['HS256'] }));
    } catch (error) {
      // A keyring the database cannot serve is 503, not a bad token.
      if (isDatabaseUnavailable(error)) throw error;
      throw invalid;
    }
    if (claims.scope !== undefined && claims.scope !== options.scope)
      throw new DomainError(ErrorCode.UNAUTHENTICATED, `This token is for ${claims.scope} only`);
    const session = await liveSession(prisma, claims.jti);
    if (
      !session ||
      session.userId !== claims.sub ||
      session.revokedAt ||
      session.expiresAt <= new Date() ||
      session.status !== 'ACTIVE'
    ) {
      throw invalid;
    }
    req.user = { id: session.userId, role: session.role, sessionId: claims.jti };
    next();
  };
}

function cookieOf(req: Request, name: string): string | undefined {
  return parseCookie(req.header('cookie') ?? '')[name];
}

export function requireRole(role: Role): RequestHandler {
  return (req, _res, next) => {
    if (req.user?.role !== role) throw new DomainError(ErrorCode.FORBIDDEN, `Only ${role.toLowerCase()}s may do this`);
    next();
  };
}

export function currentUser(req: { user?: AuthUser }): AuthUser {
  if (!req.user) throw new DomainError(ErrorCode.UNAUTHENTICATED, 'A bearer token is required');
  return req.user;
}
