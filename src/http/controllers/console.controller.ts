import { Controller, Get, Inject, Logger, type OnModuleInit, Param, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { Response } from 'express';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Vite names every asset `<name>-<hash>.<ext>`: letters, digits, `-`, `_` and dots, never a path. */
const ASSET_NAME = /^[\w-]+(\.[\w-]+)+$/;

/**
 * Where `npm run build` writes the console: `dist/console` under the package root. The root is
 * found by walking up from this file to the nearest package.json, which holds for the compiled
 * server (dist/src/http/controllers), an installed copy (node_modules/nestjs-memory/dist/...) and
 * the TypeScript sources the tests load (src/http/controllers).
 */
export function defaultConsoleRoot(moduleUrl: string = import.meta.url): string {
  let folder = dirname(fileURLToPath(moduleUrl));
  while (!existsSync(join(folder, 'package.json'))) {
    const parent = dirname(folder);
    if (parent === folder) break;
    folder = parent;
  }
  return join(folder, 'dist', 'console');
}

/** The folder the console is served from; a provider so a test can point it at an empty one. */
export const CONSOLE_ROOT = Symbol('CONSOLE_ROOT');

/**
 * The memory console's static files: `/ui` is its index, `/ui/assets/*` its hashed bundle.
 *
 * A controller rather than @nestjs/serve-static: serve-static mounts express middleware for the
 * whole app, so a host's global prefix, its own `/ui` or its SPA fallback would collide with it, and
 * it answers a missing asset with index.html. Two routes give exactly what the console needs:
 * immutable caching for hashed names, no-cache for the index, a JSON 404 for anything else, and a
 * plain message when the bundle was never built. No key guard: the shell holds no data, and every
 * call it makes goes through the guarded v1 API.
 */
@ApiExcludeController()
@Controller('ui')
export class ConsoleController implements OnModuleInit {
  private readonly logger = new Logger('MemoryConsole');
  constructor(@Inject(CONSOLE_ROOT) private readonly root: string) {}

  onModuleInit(): void {
    if (!this.built()) {
      this.logger.warn(
        `The memory console is enabled but not built (no ${join(this.root, 'index.html')}); /ui answers 404 until \`npm run build\` runs`,
      );
    }
  }

  @Get()
  index(@Res() response: Response): void {
    if (!this.built()) {
      response.status(404).json({ detail: 'The memory console is not built: run `npm run build`' });
      return;
    }
    // The index names the current hashed bundle, so it must be asked for again on every load.
    response.sendFile('index.html', { root: this.root, cacheControl: false, headers: { 'Cache-Control': 'no-cache' } }, (error) =>
      this.unsent(response, error),
    );
  }

  @Get('assets/:file')
  asset(@Param('file') file: string, @Res() response: Response): void {
    if (!ASSET_NAME.test(file)) {
      response.status(404).json({ detail: 'Not Found' });
      return;
    }
    response.sendFile(file, { root: join(this.root, 'assets'), maxAge: '365d', immutable: true, dotfiles: 'deny' }, (error) =>
      this.unsent(response, error),
    );
  }

  private built(): boolean {
    return existsSync(join(this.root, 'index.html'));
  }

  private unsent(response: Response, error: Error | undefined): void {
    if (!error || response.headersSent) return;
    response.status(404).json({ detail: 'Not Found' });
  }
}
