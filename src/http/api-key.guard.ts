import { type CanActivate, type ExecutionContext, Inject, Injectable, UnauthorizedException } from '@nestjs/common';
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Request } from 'express';
import { MEMORY_HTTP_OPTIONS, type MemoryHttpOptions } from './memory-http.options.js';

/**
 * Checks the `Authorization` header against the configured key: `Bearer <key>` (any case of
 * "bearer") or the raw key, as Hindsight accepts both. Both sides are hashed first, so the
 * comparison is constant-time and its duration says nothing about the key's length either.
 */
@Injectable()
export class ApiKeyVerifier {
  private readonly expected: Buffer | null;

  constructor(@Inject(MEMORY_HTTP_OPTIONS) options: MemoryHttpOptions) {
    this.expected = options.apiKey ? digest(options.apiKey) : null;
  }

  get enabled(): boolean {
    return this.expected !== null;
  }

  /**
   * Who a request is, for the audit log: the key's fingerprint (the start of its SHA-256, never
   * the key), or `anonymous` when the API is open.
   */
  identityOf(authorization: string | string[] | undefined): string {
    if (!this.expected || !this.accepts(authorization)) return 'anonymous';
    return `api-key:${this.expected.toString('hex').slice(0, 12)}`;
  }

  accepts(authorization: string | string[] | undefined): boolean {
    if (!this.expected) return true;
    const header = Array.isArray(authorization) ? authorization[0] : authorization;
    if (!header) return false;
    const presented = /^bearer\s+/i.test(header) ? header.replace(/^bearer\s+/i, '') : header;
    return timingSafeEqual(digest(presented.trim()), this.expected);
  }
}

/** On the v1 controllers and `/metrics`; the health probes and `/version` stay open. */
@Injectable()
export class ApiKeyGuard implements CanActivate {
  constructor(@Inject(ApiKeyVerifier) private readonly verifier: ApiKeyVerifier) {}

  canActivate(context: ExecutionContext): boolean {
    const request = context.switchToHttp().getRequest<Request>();
    if (!this.verifier.accepts(request.headers.authorization)) throw new UnauthorizedException('Invalid API key');
    return true;
  }
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}
