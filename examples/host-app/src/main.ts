import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { AppModule } from './app.module.js';

async function bootstrap(): Promise<void> {
  const app = await NestFactory.create(AppModule);
  // Nest calls the module's teardown (drain consolidation, stop workers) before TypeORM closes
  // the shared connection.
  app.enableShutdownHooks();
  await app.listen(Number(process.env.PORT ?? 3000), '127.0.0.1');
  new Logger('HostApp').log(`Listening on ${await app.getUrl()}`);
}

void bootstrap();
