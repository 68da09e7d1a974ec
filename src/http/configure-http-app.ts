import type { INestApplication } from '@nestjs/common';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import type { NextFunction, Request, Response } from 'express';
import { MEMORY_OPTIONS } from '../memory.constants.js';
import type { ResolvedMemoryOptions } from '../memory.options.js';
import { ApiKeyVerifier } from './api-key.guard.js';
import { MemoryExceptionFilter } from './memory-exception.filter.js';
import { jsonTextNestsDeeperThan, tooDeepMessage } from './input-rules.js';

export interface HttpAppOptions {
  /** Largest JSON body accepted; a bigger one is answered 413. */
  maxBodyBytes: number;
  /** Where the OpenAPI UI is served (`<path>-json` for the document). Default `/docs`. */
  docsPath?: string;
}

/**
 * App-level HTTP set-up of the standalone server, which Nest keeps outside modules: the JSON body
 * parser with its size and depth limits (the app must be created with `bodyParser: false`),
 * Hindsight-style answers to bodies that fail to parse, and the OpenAPI document. Call it after
 * `NestFactory.create` and before `listen`.
 */
export function configureHttpApp(app: INestApplication, options: HttpAppOptions): void {
  const express = app as NestExpressApplication;
  const { maxJsonDepth } = app.get<ResolvedMemoryOptions>(MEMORY_OPTIONS, { strict: false }).limits;
  // Nest's types reserve `verify` for its `rawBody` option, which the server does not use; the
  // parser gets it unchanged.
  const parserOptions = { limit: options.maxBodyBytes, verify: refuseDeepJson(maxJsonDepth) };
  express.useBodyParser('json', parserOptions);
  // Right after the parser, so its errors land here and not in Nest's global error handler,
  // whose `{statusCode, message}` body the Hindsight client does not read.
  express.use(answerBodyParseErrors);
  // The standalone server is Hindsight's API and nothing else, so even a route that does not
  // exist is answered `{"detail": "Not Found"}`; a host that mounts MemoryHttpModule keeps its own.
  app.useGlobalFilters(new MemoryExceptionFilter());

  const docsPath = options.docsPath ?? '/docs';
  const verifier = app.get(ApiKeyVerifier, { strict: false });
  if (verifier.enabled) {
    express.use(docsPath, requireApiKey(verifier));
    express.use(`${docsPath}-json`, requireApiKey(verifier));
  }
  const document = () =>
    SwaggerModule.createDocument(
      app,
      new DocumentBuilder()
        .setTitle('nestjs-memory')
        .setDescription("Long-term memory for AI agents; the core of Hindsight's v1 API")
        .setVersion('v1')
        // The key is an opaque string, not a JWT as the default bearerFormat would claim.
        .addBearerAuth({ type: 'http', bearerFormat: 'API key', description: 'MEMORY_API_KEY; required only when the server sets one' })
        .build(),
    );
  SwaggerModule.setup(docsPath.replace(/^\//, ''), app, document);
}

const TOO_DEEP = 'entity.too.deep';

/**
 * Refuses a body nested deeper than `maxDepth` from its raw text, before `JSON.parse` builds the
 * objects that later stages walk recursively.
 */
function refuseDeepJson(maxDepth: number) {
  return (_request: unknown, _response: unknown, body: Buffer): void => {
    if (jsonTextNestsDeeperThan(body, maxDepth)) throw Object.assign(new Error(tooDeepMessage(maxDepth)), { type: TOO_DEEP });
  };
}

interface BodyParserError extends Error {
  type?: string;
  status?: number;
  statusCode?: number;
  limit?: number;
}

function answerBodyParseErrors(error: BodyParserError, _request: Request, response: Response, next: NextFunction): void {
  if (error.type === TOO_DEEP && !response.headersSent) {
    // As the validation pipe answers the same depth in an already parsed body (a host's parser).
    response.status(422).json({ detail: [{ loc: ['body'], msg: error.message, type: 'value_error' }] });
    return;
  }
  const status = error.status ?? error.statusCode;
  if (!status || status >= 500 || response.headersSent) return next(error);
  let detail: string;
  if (error.type === 'entity.parse.failed') detail = `Request body is not valid JSON: ${error.message}`;
  else if (error.type === 'entity.too.large') detail = `Request body is larger than the limit of ${error.limit} bytes`;
  else detail = error.message;
  response.status(status).json({ detail });
}

function requireApiKey(verifier: ApiKeyVerifier) {
  return (request: Request, response: Response, next: NextFunction) => {
    if (verifier.accepts(request.headers.authorization)) return next();
    response.status(401).json({ detail: 'Invalid API key' });
  };
}
