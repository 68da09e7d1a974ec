import { ConfigurableModuleBuilder } from '@nestjs/common';
import type { MemoryModuleOptions } from './memory.options.js';

export const {
  ConfigurableModuleClass: ConfigurableMemoryModule,
  MODULE_OPTIONS_TOKEN: MEMORY_MODULE_OPTIONS,
  OPTIONS_TYPE: MEMORY_OPTIONS_TYPE,
  ASYNC_OPTIONS_TYPE: MEMORY_ASYNC_OPTIONS_TYPE,
} = new ConfigurableModuleBuilder<MemoryModuleOptions>()
  .setClassMethodName('forRoot')
  .setExtras({ isGlobal: false }, (definition, extras) => ({ ...definition, global: extras.isGlobal }))
  .build();
