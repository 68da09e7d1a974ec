import { ConsoleLogger, Logger } from '@nestjs/common';

/** Collects what Nest's Logger prints, to assert on the exact lines operators grep for. */
export class LogCapture extends ConsoleLogger {
  readonly lines: string[] = [];

  constructor() {
    super();
  }

  override log(message: unknown, context?: string): void {
    this.lines.push(String(message));
    void context;
  }
  override error(message: unknown, ...rest: unknown[]): void {
    this.lines.push(String(message));
    void rest;
  }
  override warn(message: unknown, context?: string): void {
    this.lines.push(String(message));
    void context;
  }
  override debug(): void {}
  override verbose(): void {}

  /** The `Shutdown step` lines, in the order they were printed. */
  get shutdownSteps(): string[] {
    return this.lines.filter((line) => line.startsWith('Shutdown step'));
  }

  install(): this {
    Logger.overrideLogger(this);
    return this;
  }
}
