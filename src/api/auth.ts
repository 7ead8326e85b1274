import bcrypt from 'bcryptjs';
import { Router, type RequestHandler } from 'express';
import jwt from 'jsonwebtoken';
import { z } from 'zod';
import type { Role } from '../workflows/messages';
import type { ApiDeps } from './deps';
import { HttpError, parse } from './errors';

export interface AuthUser {
  id: string;
  role: Role;
}

declare module 'express-serve-static-core' {
  interface Request {
    user?: AuthUser;
  }
}

const loginBody = z.object({ email: z.string().email().max(320), password: z.string().min(1).max(200) });
const tokenClaims = z.object({ sub: z.string(), role: z.enum(['CUSTOMER', 'ADMIN']) });
// Compared against when the email is unknown, so a wrong email costs as long as a wrong password.
const DUMMY_HASH = bcrypt.hashSync('durable-commerce-no-such-user', 10);

export function authRouter({ prisma, config }: ApiDeps): Router {
  const router = Router();
  router.post('/api/auth/login', async (req, res) => {
    const { email, password } = parse(loginBody, req.body);
    const user = await prisma.user.findUnique({ where: { email: email.toLowerCase() } });
    const valid = await bcrypt.compare(password, user?.passwordHash ?? DUMMY_HASH);
    if (!user || !valid) throw new HttpError(401, 'INVALID_CREDENTIALS', 'Email or password is wrong');
    const token = jwt.sign({ role: user.role }, config.JWT_SECRET, {
      algorithm: 'HS256',
      subject: user.id,
      expiresIn: Math.floor(config.JWT_TTL / 1000),
    });
    res.json({ token, user: { id: user.id, email: user.email, name: user.name, role: user.role } });
  });
  return router;
}

/** Requires a valid bearer token; sets `req.user`. */
export function authenticate({ config }: Pick<ApiDeps, 'config'>): RequestHandler {
  return (req, _res, next) => {
    const header = req.header('authorization') ?? '';
    const [scheme, token] = header.split(' ');
    if (scheme !== 'Bearer' || !token) throw new HttpError(401, 'UNAUTHENTICATED', 'A bearer token is required');
    try {
      const claims = tokenClaims.parse(jwt.verify(token, config.JWT_SECRET, { algorithms: ['HS256'] }));
      req.user = { id: claims.sub, role: claims.role };
    } catch {
      throw new HttpError(401, 'UNAUTHENTICATED', 'The token is invalid or expired');
    }
    next();
  };
}

export function requireRole(role: Role): RequestHandler {
  return (req, _res, next) => {
    if (req.user?.role !== role) throw new HttpError(403, 'FORBIDDEN', `Only ${role.toLowerCase()}s may do this`);
    next();
  };
}

export function currentUser(req: { user?: AuthUser }): AuthUser {
  if (!req.user) throw new HttpError(401, 'UNAUTHENTICATED', 'A bearer token is required');
  return req.user;
}
