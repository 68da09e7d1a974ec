import 'reflect-metadata';
import { ConsoleLogger, Logger, type INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { AppModule } from './app.module.js';
import { ignoredVariableWarnings, loadServerConfig } from './config/server-config.js';
import { configureHttpApp } from './http/configure-http-app.js';
import { ShutdownCoordinator } from './lifecycle/shutdown-coordinator.js';

const logger = new Logger('Main');

async function bootstrap(): Promise<void> {
  let config;
  try {
    config = loadServerConfig();
  } catch (error) {
    console.error((error as Error).message);
    process.exit(1);
  }
  Logger.overrideLogger(new ConsoleLogger({ json: config.logFormat === 'json', colors: false }));
  for (const warning of ignoredVariableWarnings(config)) logger.warn(warning);

  // Created here rather than by Nest: when `NestFactory.create` throws there is no application
  // to ask for it, yet what the providers allocated before the failure must still be released.
  const coordinator = new ShutdownCoordinator({ timeoutMs: config.memory.shutdownTimeoutMs });
  let app: INestApplication;
  try {
    app = await NestFactory.create(AppModule.forRoot(config, coordinator), {
      abortOnError: false,
      // configureHttpApp installs the JSON parser itself, with the configured size limit.
      bodyParser: false,
      forceCloseConnections: true,
      logger: new ConsoleLogger({ json: config.logFormat === 'json', colors: false }),
    });
    configureHttpApp(app, { maxBodyBytes: config.maxBodyBytes });
    await app.listen(config.port, config.host);
  } catch (error) {
    await coordinator.shutdown('startup failed');
    logger.error(`Startup failed: ${(error as Error)?.stack ?? String(error)}`);
    process.exit(1);
  }
  logger.log(`Listening on ${await app.getUrl()}`);

  const stop = async (signal: NodeJS.Signals) => {
    logger.log(`Received ${signal}, shutting down`);
    // A last resort in case something outside the coordinator's steps hangs (a request that
    // never ends): the coordinator's own deadline bounds everything it owns.
    setTimeout(() => {
      logger.error('Shutdown did not finish in time; exiting');
      process.exit(1);
    }, config.memory.shutdownTimeoutMs + 5_000).unref();
    try {
      await app.close();
      process.exit(0);
    } catch (error) {
      logger.error(`Shutdown failed: ${(error as Error).message}`);
      process.exit(1);
    }
  };
  process.once('SIGTERM', (signal) => void stop(signal));
  process.once('SIGINT', (signal) => void stop(signal));
}

void bootstrap();
