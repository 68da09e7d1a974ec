import { type CallHandler, type ExecutionContext, HttpException, HttpStatus, Injectable, type NestInterceptor } from '@nestjs/common';
import { ROUTE_ARGS_METADATA } from '@nestjs/common/constants.js';
import { RouteParamtypes } from '@nestjs/common/enums/route-paramtypes.enum.js';
import type { Request } from 'express';
import type { Observable } from 'rxjs';

/**
 * Answers 415 to a route that takes a JSON body when the request carries a body of another type
 * (`text/plain`, a form). Without this the JSON parser leaves such a body unread, and the route
 * would answer 422 for fields the caller did send. A request with no body at all is left to
 * validation, which names the fields that are missing.
 */
@Injectable()
export class JsonBodyInterceptor implements NestInterceptor {
  private readonly takesBody = new WeakMap<object, boolean>();

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (context.getType() === 'http' && this.routeTakesBody(context)) {
      const request = context.switchToHttp().getRequest<Request>();
      if (hasBody(request) && !isJson(request.headers['content-type'])) {
        const type = request.headers['content-type'] ? `'${request.headers['content-type']}'` : 'a body without a content type';
        throw new HttpException(
          { detail: `Unsupported media type ${type}: the request body must be application/json` },
          HttpStatus.UNSUPPORTED_MEDIA_TYPE,
        );
      }
    }
    return next.handle();
  }

  /** Whether the handler has a `@Body()` parameter, read once from Nest's route metadata. */
  private routeTakesBody(context: ExecutionContext): boolean {
    const handler = context.getHandler();
    let takes = this.takesBody.get(handler);
    if (takes === undefined) {
      const args: Record<string, unknown> = Reflect.getMetadata(ROUTE_ARGS_METADATA, context.getClass(), handler.name) ?? {};
      takes = Object.keys(args).some((key) => key.split(':')[0] === String(RouteParamtypes.BODY));
      this.takesBody.set(handler, takes);
    }
    return takes;
  }
}

/** As `type-is` decides it: a body is announced by a transfer encoding or a non-zero length. */
function hasBody(request: Request): boolean {
  if (request.headers['transfer-encoding'] !== undefined) return true;
  const length = request.headers['content-length'];
  return length !== undefined && length !== '0';
}

function isJson(contentType: string | undefined): boolean {
  return contentType?.split(';')[0].trim().toLowerCase() === 'application/json';
}
