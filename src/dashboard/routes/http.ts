// What every route plugin of the JSON API shares: the role a route declares (enforced by the auth
// plugin, src/dashboard/auth/), the signed-in user it sets, request validation with zod (a bad
// request gets 400 {error: "<field>: <what is wrong>"}) and the mapping of refusals to statuses.
import type { FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { ULID_PATTERN } from '../../events/ids.js';
import { OperatorError, type ActionOrigin } from '../../operator/types.js';
import { SettingError } from '../../postprocess/decide.js';

export type Role = 'viewer' | 'operator';

export interface DashboardUser {
  name: string;
  role: Role;
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /** viewer: read; operator: any state change (src/dashboard/auth/ enforces it). */
    role?: Role;
  }
  interface FastifyRequest {
    /** Set by the auth plugin for a signed-in user. */
    user?: DashboardUser;
  }
}

export const viewer = { config: { role: 'viewer' as Role } };
export const operator = { config: { role: 'operator' as Role } };

export const cameraId = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/, 'a camera id');
export const docId = z.string().regex(new RegExp(ULID_PATTERN), 'a ULID (26 characters)');
export const comment = z.string().max(500, 'at most 500 characters');

/** A time bound: ISO 8601 date-time, or epoch milliseconds. */
export const timeBound = z.string().transform((s, ctx) => {
  const ms = /^\d+$/.test(s) ? Number(s) : Date.parse(s);
  if (!Number.isFinite(ms) || (!/^\d+$/.test(s) && !/^\d{4}-\d{2}-\d{2}T/.test(s))) {
    ctx.addIssue({ code: 'custom', message: 'an ISO 8601 date-time or epoch milliseconds' });
    return z.NEVER;
  }
  return ms;
});

/** The origin of an action made through the dashboard, for stores and logs. */
export function originOf(req: FastifyRequest): ActionOrigin {
  return { door: 'dashboard', ...(req.user && { user: req.user.name }) };
}

/** Parses `value` or answers 400 naming the fields; returns undefined when it answered. */
export function parseOr400<T>(schema: z.ZodType<T>, value: unknown, reply: FastifyReply): T | undefined {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  void reply.code(400).send({ error: zodMessage(r.error) });
  return undefined;
}

export function zodMessage(err: z.ZodError): string {
  return err.issues.map((i) => `${i.path.join('.') || 'request'}: ${i.message}`).join('; ');
}

/** Answers a refused action with its status (OperatorError), 400 for a bad setting; else rethrows. */
export function sendRefusal(reply: FastifyReply, err: unknown): FastifyReply {
  if (err instanceof OperatorError) return reply.code(err.status).send({ error: err.message });
  if (err instanceof SettingError) return reply.code(400).send({ error: err.message });
  throw err;
}
