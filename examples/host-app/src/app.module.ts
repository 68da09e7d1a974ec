import { Module } from '@nestjs/common';
import { ScheduleModule } from '@nestjs/schedule';
import { TypeOrmModule } from '@nestjs/typeorm';
import { MemoryModule } from 'nestjs-memory';
import { DataSource } from 'typeorm';
import { ConsolidationJob } from './consolidation.job.js';
import { NotesController } from './notes.controller.js';

@Module({
  imports: [
    // The host's own database connection, which it may use for its own entities too.
    TypeOrmModule.forRootAsync({
      useFactory: () => ({ type: 'postgres' as const, url: process.env.DATABASE_URL, poolSize: 5 }),
    }),
    // The memory module shares it: it runs its migrations on it at startup and never closes it.
    MemoryModule.forRootAsync({
      inject: [DataSource],
      useFactory: (dataSource: DataSource) => ({ dataSource, consolidation: { cron: null } }),
    }),
    ScheduleModule.forRoot(),
  ],
  controllers: [NotesController],
  providers: [ConsolidationJob],
})
export class AppModule {}
