// Bearer-token checks for every route but /healthz: 401 (with WWW-Authenticate, RFC 6750) without a known token,
// 403 when the token lacks the route's scope. Runs in onRequest, before a body is read, so refusals cost nothing.

import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Scope, TokenStore } from './tokens.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The scope a route needs; 'open' needs no token at all (only /healthz). Unset: any valid token. */
    scope?: Scope | 'open';
  }
  interface FastifyRequest {
    /** The name of the token that authenticated the request (null with open access). */
    tokenName: string | null;
  }
}

const REALM = 'Bearer realm="sensorlake"';

/**
 * The onRequest hook. `tokens` null means open access (a loopback server started without --tokens): every request
 * passes.
 */
export function authHook(tokens: TokenStore | null) {
  return async function authenticate(req: FastifyRequest, reply: FastifyReply): Promise<void> {
    const scope = req.routeOptions.config?.scope;
    if (scope === 'open' || tokens === null) return;
    const header = req.headers.authorization;
    const m = header === undefined ? null : /^Bearer[ \t]+([A-Za-z0-9._~+/=-]+)[ \t]*$/i.exec(header);
    if (!m) {
      const why = header === undefined ? 'no Authorization header' : 'the Authorization header is not "Bearer <token>"';
      return refuse(reply, 401, header === undefined ? REALM : `${REALM}, error="invalid_request"`, 'unauthorized', `${why}; send Authorization: Bearer <token> (see sensorlake token create)`);
    }
    const entry = tokens.lookup(m[1]);
    if (!entry) return refuse(reply, 401, `${REALM}, error="invalid_token"`, 'unauthorized', 'unknown or revoked token');
    req.tokenName = entry.name;
    if (scope !== undefined && !entry.scopes.includes(scope)) {
      return refuse(
        reply,
        403,
        `${REALM}, error="insufficient_scope", scope="${scope}"`,
        'forbidden',
        `token '${entry.name}' has scopes ${entry.scopes.join(', ')}; ${req.method} ${req.routeOptions.url ?? req.url} needs '${scope}'`,
      );
    }
  };
}

async function refuse(reply: FastifyReply, status: 401 | 403, challenge: string, error: string, message: string): Promise<void> {
  await reply.code(status).header('www-authenticate', challenge).send({ error, message });
}
