import { Controller, UseFilters, UseGuards, UseInterceptors, UsePipes, applyDecorators } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { ApiKeyGuard } from './api-key.guard.js';
import { AuditInterceptor } from './audit.interceptor.js';
import { HttpMetricsInterceptor } from './http-metrics.interceptor.js';
import { JsonBodyInterceptor } from './json-body.interceptor.js';
import { MemoryExceptionFilter } from './memory-exception.filter.js';
import { API_PREFIX } from './memory-http.options.js';
import { MemoryValidationPipe } from './memory-validation.pipe.js';

/**
 * A controller of the Hindsight-compatible API. The key check, validation, error mapping, latency
 * metric, audit log and refusal of non-JSON bodies are bound here rather than globally, so a host that
 * imports MemoryHttpModule keeps its own behaviour on its own routes.
 */
export function MemoryApiController(tag: string, prefix: string = API_PREFIX): ClassDecorator {
  return applyDecorators(
    Controller(prefix),
    ApiTags(tag),
    ApiBearerAuth(),
    UseFilters(MemoryExceptionFilter),
    UseGuards(ApiKeyGuard),
    UseInterceptors(HttpMetricsInterceptor, AuditInterceptor, JsonBodyInterceptor),
    UsePipes(MemoryValidationPipe),
  );
}

/** The same, minus the key check: for `/health` and `/version`, which stay open. */
export function OpenMemoryApiController(tag: string): ClassDecorator {
  return applyDecorators(
    Controller(),
    ApiTags(tag),
    UseFilters(MemoryExceptionFilter),
    UseInterceptors(HttpMetricsInterceptor, JsonBodyInterceptor),
    UsePipes(MemoryValidationPipe),
  );
}
