import { Injectable } from '@nestjs/common';

/** Placeholder: two-phase memory edits (being written). */
@Injectable()
export class MemoryEditService {}
