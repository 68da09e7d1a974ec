import { Body, Controller, Get, Inject, Param, Post, Query } from '@nestjs/common';
// Imported as any host imports it: through the package entry, never from its source tree.
import { RecallService, RetainService, type RecalledMemory } from 'nestjs-memory';

interface NoteBody {
  text: string;
  user?: string;
}

/**
 * The host's own API: an agent's notes per user. Memory is an implementation detail of it; the
 * host uses the exported services and never speaks the module's HTTP API.
 */
@Controller('agents/:agent/notes')
export class NotesController {
  constructor(
    @Inject(RetainService) private readonly retain: RetainService,
    @Inject(RecallService) private readonly recall: RecallService,
  ) {}

  @Post()
  async remember(@Param('agent') agent: string, @Body() body: NoteBody): Promise<{ memoryIds: string[] }> {
    const outcome = await this.retain.retain(agent, { items: [{ content: body.text, tags: body.user ? [`user:${body.user}`] : [] }] });
    return { memoryIds: outcome.memoryIds };
  }

  @Get()
  async search(
    @Param('agent') agent: string,
    @Query('q') query: string,
    @Query('user') user?: string,
  ): Promise<{ notes: Array<Pick<RecalledMemory, 'id' | 'text' | 'type'>> }> {
    const { results } = await this.recall.recall({
      bankId: agent,
      query,
      types: ['world', 'experience', 'observation'],
      ...(user && { tags: [`user:${user}`], tagsMatch: 'all_strict' as const }),
    });
    return { notes: results.map(({ id, text, type }) => ({ id, text, type })) };
  }
}
