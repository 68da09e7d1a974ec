import type { INestApplication } from '@nestjs/common';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import type { NextFunction, Request, Response } from 'express';
import { ApiKeyVerifier } from './api-key.guard.js';

export interface HttpAppOptions {
  /** Largest JSON body accepted; a bigger one is answered 413. */
  maxBodyBytes: number;
  /** Where the OpenAPI UI is served (`<path>-json` for the document). Default `/docs`. */
  docsPath?: string;
}

/**
 * App-level HTTP set-up of the standalone server, which Nest keeps outside modules: the JSON body
 * parser with its size limit (the app must be created with `bodyParser: false`), Hindsight-style
 * answers to bodies that fail to parse, and the OpenAPI document. Call it after `NestFactory.create`
 * and before `listen`.
 */
export function configureHttpApp(app: INestApplication, options: HttpAppOptions): void {
  const express = app as NestExpressApplication;
  express.useBodyParser('json', { limit: options.maxBodyBytes });
  // Right after the parser, so its errors land here and not in Nest's global error handler,
  // whose `{statusCode, message}` body the Hindsight client does not read.
  express.use(answerBodyParseErrors);

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
        .addBearerAuth()
        .build(),
    );
  SwaggerModule.setup(docsPath.replace(/^\//, ''), app, document);
}

interface BodyParserError extends Error {
  type?: string;
  status?: number;
  statusCode?: number;
  limit?: number;
}

function answerBodyParseErrors(error: BodyParserError, _request: Request, response: Response, next: NextFunction): void {
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
